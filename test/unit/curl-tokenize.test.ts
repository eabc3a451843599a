import { describe, expect, it } from 'vitest'
import { expandWord, tokenize } from '../../src/shell/curl/tokenize.js'

const words = (input: string): string[] =>
  tokenize(input).tokens.map((token) => (token.kind === 'word' ? token.value : `<${token.value}>`))

describe('tokenize', () => {
  it('joins quoted and unquoted pieces of one word, and keeps empty quotes as an empty word', () => {
    expect(words(`a'b c'"d e"f '' ""`)).toEqual(['ab cd ef', '', ''])
  })

  it('applies backslash escapes outside quotes and only \\ " $ ` inside double quotes', () => {
    expect(words(String.raw`a\ b \'q "x\"y\$z\n"`)).toEqual(['a b', "'q", 'x"y$z\\n'])
  })

  it('decodes $\'…\' ANSI-C quoting: named, octal, hex, \\u and \\c escapes, with UTF-8 bytes', () => {
    expect(words(String.raw`$'a\tb\nc\\d\'e\x41\101\u00e9\U0001F600\cA\xc3\xa9'`)).toEqual([
      "a\tb\nc\\d'eAAé😀\u0001é",
    ])
  })

  it('drops backslash-newline continuations, also inside double quotes and words', () => {
    expect(words('curl \\\n  -s "a\\\nb" c\\\nd')).toEqual(['curl', '-s', 'ab', 'cd'])
  })

  it('returns operators, comments and redirections as separate tokens', () => {
    expect(words("curl x | jq . > out.json 2>&1 ; echo 'done' # bye\ncurl y")).toEqual([
      'curl', 'x', '<|>', 'jq', '.', '<>>', 'out.json', '<2>&>', '1', '<;>', 'echo', 'done', '<\n>', 'curl', 'y',
    ])
  })

  it('reads the cmd.exe dialect: carets, ^ continuations, MSVCRT quoting', () => {
    expect(words('curl ^"https://x/?a=1^&b=2^" ^\n  -H ^"a: \\^"q\\^"^" ^\n  --data-raw ^"line1^\n\nline2^"')).toEqual([
      'curl', 'https://x/?a=1&b=2', '-H', 'a: "q"', '--data-raw', 'line1\nline2',
    ])
  })

  it('keeps $NAME and ${NAME} as parts to expand, and warns about expansions it leaves alone', () => {
    const { tokens, warnings } = tokenize('curl "$HOST/x" -H "a: $(date)" ${B}c')
    expect(warnings).toEqual(['shell expansion $(date) is not expanded; the text is kept literally'])
    const host = tokens[1] as { value: string; parts?: unknown }
    expect(host).toMatchObject({ value: '$HOST/x', parts: ['', { variable: 'HOST' }, '/x'] })
    expect(expandWord(host as never, (name) => (name === 'HOST' ? 'h:1' : undefined))).toBe('h:1/x')
    expect(expandWord(tokens[4] as never, () => undefined)).toBe('c')
  })
})
