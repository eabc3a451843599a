/**
 * A test module's source for the generator-health tests (e2e, browser): `Gen.test_burn` holds its
 * worker's thread for 4 ms of CPU per run, so 20 think-free users fill one worker, then GETs
 * $TARGET/burn; `Gen.test_light` only GETs $TARGET/light.
 */
export const GENERATOR_TESTS = `
import { TestCase } from 'loads-runner'

export class Gen extends TestCase {
  async test_burn() {
    const end = performance.now() + 4
    while (performance.now() < end) {}
    await this.session.get(process.env.TARGET + '/burn')
  }

  async test_light() {
    await this.session.get(process.env.TARGET + '/light')
  }
}
`
