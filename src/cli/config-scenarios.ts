/**
 * `[scenario.NAME]` sections of a config file (k6's `options.scenarios`): each names its test and
 * its shape with the run's flag names, plus `start`, `env` and `tags`. Read here as the user's
 * text; load/scenarios.ts parses and checks the shapes (as the command line's would be).
 *
 *   [scenario.browse]                  [scenario.buy]
 *   test = "shop.ts:Browser"           test = "shop.ts:Buyer"
 *   users = "10:20"                    rate = 5
 *   duration = "1m"                    duration = "2m"
 *   env = { SEARCH = "shoes" }         start = "30s"
 *
 * INI writes tables as dotted keys: `env.SEARCH = shoes`, `tags.team = web`.
 */
import { UsageError } from '../errors.js'
import type { ScenarioInput } from '../load/scenarios.js'

/** Keys of a scenario section whose value is one piece of text, by their flag names. */
const TEXT_KEYS = ['test', 'users', 'hits', 'duration', 'ramp-up', 'pause', 'think', 'rate', 'max-users', 'start'] as const
const TABLE_KEYS = ['env', 'tags'] as const
type TextKey = (typeof TEXT_KEYS)[number]

/** A scenario section as read: its text keys and its tables. */
export interface ScenarioSection {
  name: string
  values: Map<string, string>
  tables: Map<string, Record<string, string>>
}

/** The section header's scenario name, or undefined when `header` is not `scenario.NAME`. */
export function scenarioName(header: string): string | undefined {
  const m = /^scenarios?\.(.+)$/.exec(header.trim())
  return m === null ? undefined : m[1]!.trim().replace(/^"(.*)"$/, '$1')
}

/** Adds one INI line (`key = value`) of scenario section `section`. */
export function addIniScenarioLine(section: ScenarioSection, key: string, value: string, where: string): void {
  const name = normalize(key)
  const dot = name.indexOf('.')
  if (dot > 0) {
    const table = name.slice(0, dot)
    if (!(TABLE_KEYS as readonly string[]).includes(table)) throw new UsageError(`${where}: unknown table '${table}' in [scenario.${section.name}] (known: env, tags)`)
    // Variable and tag names keep their case.
    const inner = key.trim().slice(dot + 1).trim()
    section.tables.set(table, { ...(section.tables.get(table) ?? {}), [inner]: value })
    return
  }
  setValue(section, name, value, where)
}

/** A TOML `[scenario.NAME]` table's keys. */
export function tomlScenario(name: string, table: Record<string, unknown>, file: string): ScenarioSection {
  const section: ScenarioSection = { name, values: new Map(), tables: new Map() }
  for (const [key, value] of Object.entries(table)) {
    const where = `${file}: [scenario.${name}] ${key}`
    const k = normalize(key)
    if ((TABLE_KEYS as readonly string[]).includes(k)) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`${where} must be a table: ${k} = { NAME = "value" }`)
      const out: Record<string, string> = {}
      for (const [inner, v] of Object.entries(value)) {
        if (typeof v === 'object' && v !== null) throw new UsageError(`${where}.${inner} must be a string, number or boolean`)
        out[inner] = String(v)
      }
      section.tables.set(k, out)
      continue
    }
    if (typeof value === 'object' && value !== null) throw new UsageError(`${where} must be a string or a number`)
    setValue(section, k, String(value), where)
  }
  return section
}

function setValue(section: ScenarioSection, key: string, value: string, where: string): void {
  if (!(TEXT_KEYS as readonly string[]).includes(key)) {
    throw new UsageError(`${where}: unknown key '${key}' in [scenario.${section.name}]`, `a scenario takes ${[...TEXT_KEYS, ...TABLE_KEYS].join(', ')}`)
  }
  if (section.values.has(key)) throw new UsageError(`${where}: '${key}' is given twice in [scenario.${section.name}]`)
  section.values.set(key, value)
}

/** The sections as scenario inputs, in the file's order; each must name its test. */
export function scenarioInputs(sections: readonly ScenarioSection[], file: string): ScenarioInput[] {
  return sections.map((s) => {
    const get = (k: TextKey): string | undefined => s.values.get(k)
    const test = get('test')
    if (test === undefined || test.trim() === '') {
      throw new UsageError(`${file}: [scenario.${s.name}] has no test`, 'name it as on the command line: test = "shop.ts:Buyer"')
    }
    const input: ScenarioInput = { name: s.name, test: test.trim() }
    const maxUsers = get('max-users')
    if (maxUsers !== undefined) {
      if (!/^\d+$/.test(maxUsers.trim()) || Number(maxUsers) < 1) throw new UsageError(`${file}: [scenario.${s.name}] max-users expects a whole number ≥ 1: got '${maxUsers}'`)
      input.maxUsers = Number(maxUsers)
    }
    const fields: [TextKey, keyof ScenarioInput][] = [['users', 'users'], ['hits', 'hits'], ['duration', 'duration'], ['ramp-up', 'rampUp'], ['pause', 'pause'], ['think', 'think'], ['rate', 'rate'], ['start', 'start']]
    for (const [key, field] of fields) {
      const v = get(key)
      if (v !== undefined) (input as unknown as Record<string, string>)[field] = v.trim()
    }
    const env = s.tables.get('env')
    if (env !== undefined) input.env = env
    const tags = s.tables.get('tags')
    if (tags !== undefined) input.tags = tags
    return input
  })
}

function normalize(key: string): string {
  return key.trim().toLowerCase().replace(/_/g, '-')
}
