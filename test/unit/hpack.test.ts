import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { HpackDecoder, HpackError, hpackEncode, huffmanDecode } from '../../src/http/hpack.js'

/**
 * HPACK against the public hpack-test-case corpus (github.com/http2jp/hpack-test-case, MIT):
 * test/fixtures/hpack/stories.json holds stories 01, 12 and 24 as eight encoders wrote them
 * (nghttp2 with and without table size changes, Go, Python, Haskell with Huffman, Swift NIO,
 * node-http2), 360 header blocks sharing each story's dynamic table, with Huffman strings and
 * table size updates. Each must decode to the story's headers, in order.
 */
interface Story {
  name: string
  cases: Array<{ size?: number; wire: string; headers: Array<[string, string]> }>
}
const corpus = JSON.parse(readFileSync(new URL('../fixtures/hpack/stories.json', import.meta.url), 'utf8')) as { stories: Story[] }

describe('HPACK decoder: the hpack-test-case corpus', () => {
  it('holds what it should (8 encoders × 3 stories)', () => {
    expect(corpus.stories).toHaveLength(24)
    expect(corpus.stories.reduce((n, s) => n + s.cases.length, 0)).toBe(360)
  })
  for (const story of corpus.stories) {
    it(story.name, () => {
      // The largest table size any case announces is the SETTINGS value the decoder holds to.
      const limit = Math.max(4096, ...story.cases.map((c) => c.size ?? 0))
      const decoder = new HpackDecoder(limit)
      // The same story without the repeated-block shortcut (a list bound that changes each block).
      const plain = new HpackDecoder(limit)
      for (const [i, c] of story.cases.entries()) {
        const wire = Buffer.from(c.wire, 'hex')
        const out: string[] = []
        decoder.decode(wire, 0, wire.length, out)
        const again: string[] = []
        plain.decode(wire, 0, wire.length, again, 1e9 + i)
        expect(again).toEqual(out)
        const pairs: Array<[string, string]> = []
        for (let i = 0; i < out.length; i += 2) pairs.push([out[i]!, Buffer.from(out[i + 1]!, 'latin1').toString('utf8')])
        expect(pairs).toEqual(c.headers)
      }
    })
  }
})

describe('HPACK decoder: RFC 7541 examples and malformed blocks', () => {
  it('C.4: requests with Huffman coding, sharing a dynamic table', () => {
    const decoder = new HpackDecoder()
    const blocks = ['828684418cf1e3c2e5f23a6ba0ab90f4ff', '828684be5886a8eb10649cbf', '828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf']
    const out = blocks.map((hex) => {
      const list: string[] = []
      decoder.decode(Buffer.from(hex, 'hex'), 0, hex.length / 2, list)
      return list
    })
    expect(out[0]).toEqual([':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'www.example.com'])
    expect(out[1]).toEqual([':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'www.example.com', 'cache-control', 'no-cache'])
    expect(out[2]).toEqual([':method', 'GET', ':scheme', 'https', ':path', '/index.html', ':authority', 'www.example.com', 'custom-key', 'custom-value'])
    expect(decoder.tableSize).toBe(164)
  })

  it('C.6: responses with Huffman coding and eviction (table size 256)', () => {
    const decoder = new HpackDecoder(256)
    const update = Buffer.from('3fe101', 'hex') // size update to 256 before the first block
    decoder.decode(update, 0, update.length, [])
    const blocks = [
      '488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3',
      '4883640effc1c0bf',
      '88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007',
    ]
    const lists = blocks.map((hex) => {
      const list: string[] = []
      decoder.decode(Buffer.from(hex, 'hex'), 0, hex.length / 2, list)
      return list
    })
    expect(lists[1]).toEqual([':status', '307', 'cache-control', 'private', 'date', 'Mon, 21 Oct 2013 20:13:21 GMT', 'location', 'https://www.example.com'])
    expect(lists[2]!.slice(-4)).toEqual(['content-encoding', 'gzip', 'set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1'])
    expect(decoder.tableSize).toBe(215)
  })

  it('refuses what RFC 7541 forbids, with HpackError', () => {
    const bad = [
      '80', // index 0
      'be', // dynamic index 62 of an empty table
      '3fe21f', // size update above the 4096 announced
      '82' + '3f', // size update after a field
      '0f', // integer prefix full, then nothing
      '0085f2b24a84ff', // truncated name string
      '00' + '81' + 'ff' + '00', // Huffman name of 8 one bits: padding longer than 7 bits
      '0f' + 'ffffffffff0f', // integer beyond 2^31
      '008aff' + 'ffffffff'.repeat(3), // Huffman EOS inside a string
    ]
    for (const hex of bad) {
      const block = Buffer.from(hex, 'hex')
      expect(() => new HpackDecoder().decode(block, 0, block.length, []), hex).toThrow(HpackError)
    }
  })

  it('Huffman padding: up to 7 one bits end a string; a zero bit in the padding does not', () => {
    expect(huffmanDecode(Buffer.from('f1e3c2e5f23a6ba0ab90f4ff', 'hex'), 0, 12)).toBe('www.example.com')
    // 'a' is 00011 (5 bits): 00011 111 is 'a' and 3 ones of padding; 00011 011 is not.
    expect(huffmanDecode(Buffer.from([0b00011111]), 0, 1)).toBe('a')
    expect(() => huffmanDecode(Buffer.from([0b00011011]), 0, 1)).toThrow(HpackError)
  })

  it('bounds the decoded list and keeps the table in step when it is over', () => {
    const decoder = new HpackDecoder()
    const big = hpackEncode(['x-big', 'v'.repeat(100)])
    // A literal with incremental indexing of the same field: 0x40, raw name, raw value.
    const indexed = Buffer.concat([Buffer.from([0x40]), big.subarray(1)])
    const out: string[] = []
    expect(decoder.decode(indexed, 0, indexed.length, out, 50)).toBe(-1)
    expect(out).toEqual([])
    const again = Buffer.from([0xbe])
    const next: string[] = []
    expect(decoder.decode(again, 0, 1, next)).toBe(5 + 100 + 32)
    expect(next).toEqual(['x-big', 'v'.repeat(100)])
  })
})

describe('HPACK decoder: the repeated-block shortcut', () => {
  it('a block seen before decodes from memory only while the table is unchanged', () => {
    const decoder = new HpackDecoder()
    const insert = (value: string): Buffer => Buffer.concat([Buffer.from([0x40]), hpackEncode(['x', value]).subarray(1)])
    const refer = Buffer.from([0xbe]) // dynamic index 62: the newest entry
    const decode = (block: Buffer): string[] => {
      const out: string[] = ['before']
      decoder.decode(block, 0, block.length, out)
      return out
    }
    decode(insert('1'))
    expect(decode(refer)).toEqual(['before', 'x', '1'])
    expect(decode(refer)).toEqual(['before', 'x', '1'])
    decode(insert('2'))
    expect(decode(refer)).toEqual(['before', 'x', '2'])
    // A block that inserts and refers to no dynamic entry is remembered, and a repeat replays
    // its insertion: the table is as if it had been decoded again.
    decode(insert('3'))
    expect(decode(insert('3'))).toEqual(['before', 'x', '3'])
    expect(decoder.tableSize).toBe(4 * 34)
    const both = Buffer.from([0xbe, 0xbf]) // the two newest entries
    expect(decode(both)).toEqual(['before', 'x', '3', 'x', '3'])
    decode(insert('4'))
    expect(decode(both)).toEqual(['before', 'x', '4', 'x', '3'])
    expect(decode(insert('4'))).toEqual(['before', 'x', '4'])
    expect(decode(both)).toEqual(['before', 'x', '4', 'x', '4'])
    expect(decoder.tableSize).toBe(6 * 34)
  })

  it('a repeated block under eviction decodes as without the shortcut (a 100-byte table, nginx-like heads)', () => {
    // nginx's way: literals with incremental indexing and a static name index, never referred to.
    const literal = (index: number, value: string): Buffer => Buffer.concat([Buffer.from([0x40 | index, value.length]), Buffer.from(value, 'latin1')])
    const head = (date: string): Buffer => Buffer.concat([Buffer.from([0x88]), literal(54, 'nginx'), literal(33, date), literal(28, '100')])
    const blocks = [head('a'), head('a'), head('a'), Buffer.from([0xbe]), head('b'), head('b'), Buffer.from([0xbe, 0xbf]), head('b'), Buffer.from([0xbf])]
    const run = (shortcut: boolean): string[][] => {
      const decoder = new HpackDecoder(100)
      return blocks.map((block, i) => {
        const out: string[] = []
        // A different list bound at each block defeats the shortcut (it is part of the key).
        decoder.decode(block, 0, block.length, out, shortcut ? 1e9 : 1e9 + i)
        return out
      })
    }
    const seen = run(true)
    expect(seen).toEqual(run(false))
    expect(seen[2]).toEqual([':status', '200', 'server', 'nginx', 'date', 'a', 'content-length', '100'])
    expect(seen[3]).toEqual(['content-length', '100'])
    expect(seen[6]).toEqual(['content-length', '100', 'date', 'b'])
    expect(seen[8]).toEqual(['date', 'b'])
  })
})

describe('HPACK decoder: repeats whose insertions wait', () => {
  it('500 repeats of an inserting block, then blocks referring to every entry: as decoded one by one', () => {
    // Repeats of a pure block put their insertions in the table only when another block comes,
    // and only as many as can still show: the table must read the same as without the shortcut.
    const literal = (index: number, value: string): Buffer => Buffer.concat([Buffer.from([0x40 | index, value.length]), Buffer.from(value, 'latin1')])
    const head = (date: string): Buffer => Buffer.concat([Buffer.from([0x88]), literal(54, 'nginx'), literal(33, date), literal(28, '100')])
    const blocks: Buffer[] = []
    for (let i = 0; i < 500; i++) blocks.push(head('Wed, 02 Dec 2026 15:00:00 GMT'))
    // Each head inserts 43 + 65 + 49 = 157 bytes: 26 heads (78 entries, 4082 bytes) fit in 4096.
    // Then every dynamic index the table holds (62 … 139), and one past it.
    const indexed = (index: number): Buffer => Buffer.from(index < 127 ? [0x80 | index] : [0xff, index - 127])
    for (let index = 62; index <= 62 + 78; index++) blocks.push(indexed(index))
    for (let i = 0; i < 3; i++) blocks.push(head('Wed, 02 Dec 2026 15:00:01 GMT'), Buffer.from([0xbe, 0xc4]))
    const run = (shortcut: boolean): Array<string[] | string> => {
      const decoder = new HpackDecoder(4096)
      return blocks.map((block, i) => {
        const out: string[] = []
        try {
          // A different list bound at each block defeats the shortcut (it is part of the key).
          decoder.decode(block, 0, block.length, out, shortcut ? 1e9 : 1e9 + i)
        } catch (err) {
          return (err as Error).message
        }
        // Reading the size puts waiting insertions in: not while the repeats come.
        return i < 500 ? out : [...out, `size ${decoder.tableSize}`]
      })
    }
    const seen = run(true)
    expect(seen).toEqual(run(false))
    expect(seen[500]).toEqual(['content-length', '100', 'size 4082'])
    expect(seen[500 + 77]).toEqual(['server', 'nginx', 'size 4082'])
    expect(seen.filter((r) => typeof r === 'string')).toHaveLength(1) // the index one past the table
  })
})

describe('HPACK encoder', () => {
  it('round-trips through the decoder: static matches indexed, other fields literal', () => {
    const fields = [':method', 'GET', ':path', '/a?b=1', ':scheme', 'https', ':authority', 'localhost:8443', 'accept', '*/*', 'x-custom', 'é latin1', 'cookie', 'a=1; b=2', 'x-long', 'y'.repeat(300)]
    const block = hpackEncode(fields)
    expect(block[0]).toBe(0x82) // :method GET
    const out: string[] = []
    new HpackDecoder().decode(block, 0, block.length, out)
    expect(out).toEqual(fields)
  })
})
