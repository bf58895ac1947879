/**
 * `npm run bench`: every benchmark prints ratios of linkkit against a baseline measured side by side
 * in the same run (raw MQTT.js, curl). Absolute times vary by machine; the ratios are what we track.
 */
import { coreBench } from './core.bench.js'
import { fleetBench } from './fleet.bench.js'
import { fotaBench } from './fota.bench.js'
import { gatewayBench } from './gateway.bench.js'
import { preAuthBench } from './pre-auth.bench.js'
import { redisBench } from './redis.bench.js'
import { rolloutBench } from './rollout.bench.js'
import { roundtripBench } from './roundtrip.bench.js'
import { thingBench } from './thing.bench.js'

const only = process.argv[2]
const mosquitto = process.env.LINKKIT_MOSQUITTO_URL
const lines: string[] = []
if (!only || only === 'core') {
  lines.push(...(await coreBench(undefined)))
  if (mosquitto) lines.push(...(await coreBench(mosquitto)))
}
if (!only || only === 'roundtrip') lines.push(...(await roundtripBench()))
if (!only || only === 'thing') lines.push(...(await thingBench()))
if (!only || only === 'fota') lines.push(...(await fotaBench()))
if (!only || only === 'gateway') lines.push(...(await gatewayBench()))
if (!only || only === 'pre-auth') lines.push(...(await preAuthBench()))
if (!only || only === 'redis') lines.push(...(await redisBench()))
if (!only || only === 'fleet') lines.push(...(await fleetBench()))
if (!only || only === 'rollout') lines.push(...(await rolloutBench()))
console.log(lines.join('\n'))
