// The "cloud" for round trips through a plain broker (Mosquitto): a raw MQTT.js client in its own
// process that answers every Alink post on `<topic>_reply` with `{ id, code: 200, data: {} }` at
// QoS 0, as the platform does. Shared by the raw MQTT.js baseline and linkkit alike.
// Usage: node responder-child.mjs <brokerUrl>; prints "ready" once subscribed, exits on SIGTERM.
import mqtt from 'mqtt'

const [url] = process.argv.slice(2)
const client = await mqtt.connectAsync(url, {
  clientId: `bench-responder-${process.pid}`,
  reconnectPeriod: 0,
})
client.on('message', (topic, payload) => {
  let id
  try {
    id = JSON.parse(payload.toString()).id
  } catch {
    return
  }
  const method = topic.split('/').slice(4).join('.')
  client.publish(
    `${topic}_reply`,
    JSON.stringify({ id, code: 200, data: {}, message: 'success', method, version: '1.0' }),
    { qos: 0 },
  )
})
await client.subscribeAsync('/sys/+/+/thing/event/+/post', { qos: 0 })
console.log('ready')
process.on('SIGTERM', () => {
  client.end(true, () => process.exit(0))
})
