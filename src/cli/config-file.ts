/**
 * `--config loads.ini` (or `.toml`): the options of a run in a file, under a `[loads]` section
 * whose keys are the command's long flags (`users = 10`, `server-url = …`, `insecure = true`).
 * Flags given on the command line win; a key that is no flag is an error that names it.
 * `[scenario.NAME]` sections are scenarios (config-scenarios.ts), handed to the command as its
 * `scenarios` value.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { InvalidArgumentError, type Command, type Option } from 'commander'
import { UsageError } from '../errors.js'
import { addIniScenarioLine, scenarioInputs, scenarioName, tomlScenario, type ScenarioSection } from './config-scenarios.js'

/** smol-toml, loaded for the first .toml file (its CommonJS build: one file). */
const parseToml = (text: string): unknown => (createRequire(import.meta.url)('smol-toml') as typeof import('smol-toml')).parse(text)

/** A key of the file and its values (several when the key repeats or holds a TOML array). */
export type ConfigEntries = Map<string, string[]>

/** Flags that make no sense in a file. */
const NOT_IN_FILE = new Set(['config', 'help', 'version'])

/** Adds `--config <file>` to a command; its values are applied before the command's action runs. */
export function addConfigOption(command: Command, cwd: string): Command {
  return command
    .option('--config <file>', 'read options from a file: an INI (or .toml) [loads] section whose keys are the long flags; flags given here win')
    .hook('preAction', (cmd) => {
      const file = cmd.getOptionValue('config') as string | undefined
      if (file === undefined) return
      const scenarios: ScenarioSection[] = []
      applyConfig(cmd, readConfigFile(file, cwd, scenarios), file)
      if (scenarios.length > 0) cmd.setOptionValueWithSource('scenarios', scenarioInputs(scenarios, file), 'config')
    })
}

/**
 * Reads a config file's `[loads]` section (TOML for `.toml`, INI otherwise); its scenario
 * sections go to `scenarios` (the `[loads]` section may then be left out).
 */
export function readConfigFile(file: string, cwd: string, scenarios?: ScenarioSection[]): ConfigEntries {
  let text: string
  try {
    text = readFileSync(path.resolve(cwd, file), 'utf8')
  } catch (err) {
    throw new UsageError(`--config ${file}: cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  return path.extname(file).toLowerCase() === '.toml' ? parseTomlSection(text, file, scenarios) : parseIniSection(text, file, scenarios)
}

/** The `[loads]` section of an INI file: `key = value` (or `key: value`) lines, `#`/`;` comments. */
export function parseIniSection(text: string, file: string, scenarios?: ScenarioSection[]): ConfigEntries {
  const entries: ConfigEntries = new Map()
  let section: string | undefined
  let scenario: ScenarioSection | undefined
  let found = false
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return
    const header = /^\[([^\]]+)\]$/.exec(line)
    if (header) {
      section = header[1]!.trim()
      if (section === 'loads') found = true
      const name = scenarios !== undefined ? scenarioName(section) : undefined
      scenario = name !== undefined ? { name, values: new Map(), tables: new Map() } : undefined
      if (scenario !== undefined) scenarios!.push(scenario)
      return
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line)
    if (!kv) throw new UsageError(`${file}:${i + 1}: expected 'key = value': ${line}`)
    if (section === undefined) throw new UsageError(`${file}:${i + 1}: '${kv[1]}' is outside any section: put the options under [loads]`)
    if (scenario !== undefined) return addIniScenarioLine(scenario, kv[1]!, unquote(kv[2]!.trim()), `${file}:${i + 1}`)
    if (section !== 'loads') return
    add(entries, kv[1]!, unquote(kv[2]!.trim()))
  })
  if (!found && (scenarios === undefined || scenarios.length === 0)) throw new UsageError(`--config ${file} has no [loads] section`, 'put the options under a [loads] line: users = 10, duration = 30s …')
  return entries
}

function parseTomlSection(text: string, file: string, scenarios?: ScenarioSection[]): ConfigEntries {
  let doc: Record<string, unknown>
  try {
    doc = parseToml(text) as Record<string, unknown>
  } catch (err) {
    throw new UsageError(`--config ${file}: not valid TOML: ${(err as Error).message.split('\n')[0]}`)
  }
  const tables = doc['scenario'] ?? doc['scenarios']
  if (scenarios !== undefined && tables !== null && typeof tables === 'object' && !Array.isArray(tables)) {
    for (const [name, table] of Object.entries(tables)) {
      if (table === null || typeof table !== 'object' || Array.isArray(table)) throw new UsageError(`${file}: [scenario.${name}] must be a table`)
      scenarios.push(tomlScenario(name, table as Record<string, unknown>, file))
    }
  }
  const section = doc['loads'] ?? (scenarios !== undefined && scenarios.length > 0 ? {} : undefined)
  if (section === null || typeof section !== 'object' || Array.isArray(section)) {
    throw new UsageError(`--config ${file} has no [loads] table`, 'put the options under a [loads] line: users = "10:20", duration = "30s" …')
  }
  const entries: ConfigEntries = new Map()
  for (const [key, value] of Object.entries(section)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (typeof v === 'object' && v !== null) throw new UsageError(`${file}: [loads] ${key} must be a string, number or boolean`)
      add(entries, key, String(v))
    }
  }
  return entries
}

function add(entries: ConfigEntries, key: string, value: string): void {
  const name = key.trim().toLowerCase().replace(/_/g, '-')
  entries.set(name, [...(entries.get(name) ?? []), value])
}

function unquote(value: string): string {
  const m = /^"(.*)"$|^'(.*)'$/.exec(value)
  return m ? (m[1] ?? m[2] ?? '') : value
}

/**
 * Sets every option the command line left unset from `entries`, through the option's own parser
 * (so a file's `duration = 3O` fails as `-d 3O` would). Unknown keys fail together, by name.
 */
export function applyConfig(command: Command, entries: ConfigEntries, file: string): void {
  const byName = new Map<string, Option>()
  for (const option of command.options) {
    const name = option.long?.replace(/^--/, '')
    if (name !== undefined && !NOT_IN_FILE.has(name) && !option.negate) byName.set(name, option)
  }
  const unknown = [...entries.keys()].filter((key) => !byName.has(key))
  if (unknown.length > 0) {
    throw new UsageError(
      `${file}: unknown key${unknown.length > 1 ? 's' : ''} in [loads]: ${unknown.join(', ')}`,
      `keys are the long flags of '${command.name()}' without dashes: ${[...byName.keys()].join(', ')}`,
    )
  }
  for (const [key, values] of entries) {
    const option = byName.get(key)!
    const attribute = option.attributeName()
    const source = command.getOptionValueSource(attribute)
    if (source === 'cli' || source === 'env') continue
    let value: unknown = option.defaultValue
    for (const raw of values) value = parseValue(option, raw, value, `${file}: ${key} = ${raw}`)
    command.setOptionValueWithSource(attribute, value, 'config')
  }
}

function parseValue(option: Option, raw: string, previous: unknown, where: string): unknown {
  if (option.isBoolean()) {
    const b = raw.toLowerCase()
    if (['true', 'yes', 'on', '1'].includes(b)) return true
    if (['false', 'no', 'off', '0'].includes(b)) return false
    throw new UsageError(`${where}: expected true or false`)
  }
  // `--dashboard [port]` given alone: `dashboard = true`.
  if (option.optional && raw.toLowerCase() === 'true') return true
  if (option.parseArg === undefined) return raw
  try {
    return option.parseArg(raw, previous as never)
  } catch (err) {
    if (err instanceof InvalidArgumentError || err instanceof UsageError) throw new UsageError(`${where}: ${err.message.replace(/^error: /, '')}`)
    throw err
  }
}
