// An emulator node in a process of its own, for tests that kill it (SIGKILL: no cleanup at all).
// Starts with the options in LINKKIT_CHILD (JSON), prints `{ node }`; then each line on stdin,
// `{ productKey, version, imageBytes, rollout }`, has it add a firmware and start (and drive) a
// rollout of it, answered with the rollout as a JSON line.
import { createInterface } from 'node:readline'
import { Emulator, type RolloutOptions } from '@linkkit/emulator'

const emu = await Emulator.start(JSON.parse(process.env.LINKKIT_CHILD ?? '{}'))
console.log(JSON.stringify({ node: emu.node }))
for await (const line of createInterface({ input: process.stdin })) {
  const {
    productKey,
    version,
    imageBytes,
    rollout: options,
  } = JSON.parse(line) as {
    productKey: string
    version: string
    imageBytes: number
    rollout: Omit<RolloutOptions, 'productKey' | 'firmware'>
  }
  const data = new Uint8Array(imageBytes).map((_, i) => (i * 13 + 5) & 0xff)
  const firmware = await emu.ota.addFirmware({ productKey, version, data })
  const rollout = await emu.ota.rollout({ ...options, productKey, firmware })
  console.log(JSON.stringify(rollout))
}
await emu.close()
