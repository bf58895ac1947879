// The simulated device and the fleet draw property values and service outputs the same way.
export { type Random, sampleParams, sampleValue } from '@linkkit/fleet'
