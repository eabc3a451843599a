import { InvalidArgumentError } from 'commander'
import { parseDuration } from '../load/duration.js'

/** Commander argument parsers: each turns the user's text into a value once, or says why not. */

export function durationMs(flag: string) {
  return (value: string): number => {
    try {
      return parseDuration(value, flag)
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message)
    }
  }
}

export function positiveInt(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError(`${flag} expects a whole number ≥ 1: got '${value}'`)
    return Number(value)
  }
}
