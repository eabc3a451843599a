// vitest setupFiles: runs in every test file; removes the folders the file's tests and helpers made
// with testTemp()/trackTemp() once the file is done (after its own afterAll hooks stop processes).
import { afterAll } from 'vitest'
import { removeTestTemps } from './temp.js'

afterAll(() => removeTestTemps())
