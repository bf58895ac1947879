import type { IClientOptions } from 'mqtt'

/** Where a fleet's clients connect, as MQTT.js's own parsing of the broker URL gives it. */
export interface BrokerEndpoint {
  /** `mqtt`, `mqtts`, `tcp`, `ssl` or `tls` (MQTT.js's names, without the colon). */
  protocol: string
  host: string
  /** Undefined: MQTT.js's default for the protocol (1883, 8883). */
  port: number | undefined
}

/** Protocols whose MQTT.js stream takes a host and a port (WebSocket URLs are given to MQTT.js as URLs). */
const HOST_PORT_PROTOCOLS = new Set(['mqtt', 'mqtts', 'tcp', 'ssl', 'tls'])

/** The endpoint of a broker URL, parsed once for the whole fleet; undefined for a WebSocket URL. */
export function brokerEndpoint(url: string): BrokerEndpoint | undefined {
  const parsed = new URL(url)
  const protocol = parsed.protocol.slice(0, -1)
  if (!HOST_PORT_PROTOCOLS.has(protocol)) return undefined
  return {
    protocol,
    // An IPv6 literal without its brackets, as MQTT.js's url.parse gives it.
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port === '' ? undefined : Number(parsed.port),
  }
}

/**
 * A fleet client's MQTT.js options, for `connect(options)` without a URL: the device's signed
 * options (core's `deviceMqttOptions`) with the endpoint, and with every property MQTT.js adds
 * while it connects already present (undefined where MQTT.js fills it in: its defaults, the SOCKS
 * proxy from the environment, the TLS server name). MQTT.js keeps this object for the client's
 * life. Given a URL instead, it copies the options with the URL's parts and then deletes `path`
 * from the copy, which turns it into a dictionary: 1.4 KiB a client instead of about 0.4, plus the
 * parsed query object (docs/performance.md "Fleets").
 */
export function fleetClientOptions(
  device: IClientOptions,
  endpoint: BrokerEndpoint,
  log: ((...args: unknown[]) => void) | undefined,
): IClientOptions {
  return {
    ...device,
    protocol: endpoint.protocol as IClientOptions['protocol'],
    defaultProtocol: undefined,
    host: endpoint.host,
    hostname: endpoint.host,
    port: endpoint.port,
    unixSocket: undefined,
    socksProxy: undefined,
    // Set by MQTT.js's TLS stream (the server name only for a host name, not an IP address).
    servername: device.servername,
    rejectUnauthorized: device.rejectUnauthorized,
    // Filled in by MQTT.js's client from its defaults when undefined (the device's own options
    // already carry the rest: keepalive, protocolVersion, reconnectPeriod, connectTimeout, clean,
    // resubscribe; fleet-client-options.test.ts fails if MQTT.js adds a property).
    reschedulePings: undefined,
    protocolId: undefined,
    subscribeBatchSize: undefined,
    writeCache: undefined,
    timerVariant: undefined,
    customHandleAcks: undefined,
    log,
  } as IClientOptions
}
