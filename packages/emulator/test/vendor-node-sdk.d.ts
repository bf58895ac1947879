/**
 * The parts of the vendor's Node SDK (`alibabacloud-iot-device-sdk` 1.2.x, plain JavaScript with no
 * types of its own) that the interop test drives, as its sources in node_modules define them.
 */
declare module 'alibabacloud-iot-device-sdk' {
  import type { EventEmitter } from 'node:events'

  /** A platform reply as the SDK hands it to a callback. */
  export interface SdkReply {
    id: string
    code: number
    data: unknown
    message?: string
    method?: string
  }

  /** A platform request (property set, service call, config push) as the SDK hands it over. */
  export interface SdkRequest {
    id: string
    version: string
    params: Record<string, unknown>
    method: string
  }

  /** What `reply()` of `onService` publishes; without `id` the SDK makes up a new one. */
  export interface SdkServiceAnswer {
    id?: string
    code: number
    data: unknown
  }

  /** A device's triple. */
  export interface SdkTriple {
    productKey: string
    deviceName: string
    deviceSecret: string
  }

  /** Options of `iot.device()` and `iot.gateway()`. */
  export interface SdkConfig extends SdkTriple {
    brokerUrl?: string
    /** `sha1` (default), `md5`, `sha256`: advertised as `signmethod=hmac<alg>`. */
    signAlgorithm?: string
    keepalive?: number
    clean?: boolean
  }

  /** A device, gateway or sub-device; events `connect`, `error`, `close` carry their arguments as one array. */
  export interface SdkThing extends EventEmitter {
    readonly connected: boolean
    publish(topic: string, payload: string, options?: { qos?: 0 | 1 }): void
    end(force?: boolean, callback?: () => void): void
    postProps(params: Record<string, unknown>, callback: (res: SdkReply) => void): void
    postEvent(eventName: string, params: Record<string, unknown>, callback: (res: SdkReply) => void): void
    onProps(callback: (req: SdkRequest) => void): void
    onService(
      serviceName: string,
      callback: (req: SdkRequest, reply: (answer: SdkServiceAnswer, type?: 'async' | 'sync') => void) => void,
    ): void
    postTags(tags: Array<{ attrKey: string; attrValue: string }>, callback: (res: SdkReply) => void): void
    deleteTags(keys: string[], callback: (res: SdkReply) => void): void
    getConfig(callback: (res: SdkReply) => void): void
    onConfig(callback: (req: SdkRequest) => void): void
  }

  /** A gateway: a thing with topology and sub-device sessions. */
  export interface SdkGateway extends SdkThing {
    addTopo(devices: SdkTriple[], callback: (res: SdkReply) => void): void
    getTopo(callback: (res: SdkReply) => void): void
    removeTopo(
      devices: Array<{ productKey: string; deviceName: string }>,
      callback: (res: SdkReply) => void,
    ): void
    login(device: SdkTriple, callback: (res: SdkReply) => void): SdkThing
    logout(device: { productKey: string; deviceName: string }, callback: (res: SdkReply) => void): void
    regiestSubDevice(
      devices: { productKey: string; deviceName: string },
      callback: (res: SdkReply) => void,
    ): void
  }

  /** `iot.register`'s options: HTTPS dynamic registration, signed HMAC-SHA1 with the product secret. */
  export interface SdkRegisterOptions {
    productKey: string
    productSecret: string
    deviceName: string
    registerURL: string
  }

  const iot: {
    device(config: SdkConfig): SdkThing
    gateway(config: SdkConfig): SdkGateway
    register(options: SdkRegisterOptions, callback: (res: unknown) => void): void
    sdkver: string
  }
  export default iot
}
