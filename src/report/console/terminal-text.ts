/**
 * User text (URL names, error messages, stacks, counter names) made safe for a terminal: control
 * characters (ESC and every other C0/C1 code, DEL) and bidirectional overrides would let a name
 * or a server's message move the cursor, set the window title (OSC), hide text or reorder what
 * the reader sees (Trojan Source). They are shown escaped (`\x1b`, `\u202e`) instead.
 */

// C0 but tab and line feed, DEL, C1; and the bidi controls (marks, embeddings, overrides, isolates).
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0)
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
  })
}
