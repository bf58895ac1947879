import { Connection } from '@linkkit/core'
import type { Emulator } from '@linkkit/emulator'
import { GW } from '@linkkit/testing/emulator'
import { type SubDevice, type SubDeviceEvents, SubDevices } from '../src/index.js'

export { GW, identity, LAMP_TSL, SUB_PK, startEmulator, sub } from '@linkkit/testing/emulator'

/** A gateway's connection with its sub-device manager, closed children first. */
export interface Gateway extends AsyncDisposable {
  connection: Connection
  subdevices: SubDevices
  readonly connected: boolean
}

/**
 * A connected gateway with fast reconnects and short request timeouts. `subdevices` is made
 * before `connect()`, as an application does, so the notice topics are subscribed by then.
 */
export async function gateway(emu: Emulator): Promise<Gateway> {
  const connection = new Connection({
    ...GW,
    brokerUrl: emu.mqttUrl,
    requestTimeoutMs: 2000,
    reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
  })
  const subdevices = new SubDevices(connection)
  await connection.connect()
  return {
    connection,
    subdevices,
    get connected() {
      return connection.connected
    },
    async [Symbol.asyncDispose]() {
      await subdevices.close()
      await connection.close()
    },
  }
}

/** Resolves with the argument of the next `event` the sub-device emits. */
export function next<E extends keyof SubDeviceEvents>(
  sd: SubDevice,
  event: E,
): Promise<Parameters<SubDeviceEvents[E]>[0]> {
  return new Promise((resolve) => {
    const once = sd.once.bind(sd) as (
      event: E,
      listener: (arg: Parameters<SubDeviceEvents[E]>[0]) => void,
    ) => unknown
    once(event, resolve)
  })
}
