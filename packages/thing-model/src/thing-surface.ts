import { EventEmitter } from 'eventemitter3'
import type { ThingClient } from './thing-client.js'

/**
 * The thing-model calls a `Device` and a `SubDevice` share, delegated to their `thing` client
 * (IOT_Linkkit_Report, IOT_Linkkit_TriggerEvent, the ITE_SERVICE_REQUEST / ITE_PROPERTY_SET /
 * ITE_PROPERTY_GET callbacks, ITM_MSG_QUERY_TIMESTAMP).
 */
export abstract class ThingSurface<Events extends EventEmitter.ValidEventTypes> extends EventEmitter<Events> {
  /** The thing-model client: properties, events, services, desired properties, tags, NTP, raw data. */
  abstract readonly thing: ThingClient

  /** Posts properties and resolves on the cloud's reply (IOT_Linkkit_Report, ITM_MSG_POST_PROPERTY). */
  postProperties(
    ...args: Parameters<ThingClient['postProperties']>
  ): ReturnType<ThingClient['postProperties']> {
    return this.thing.postProperties(...args)
  }

  /** Posts an event and resolves on the cloud's reply (IOT_Linkkit_TriggerEvent). */
  postEvent(...args: Parameters<ThingClient['postEvent']>): ReturnType<ThingClient['postEvent']> {
    return this.thing.postEvent(...args)
  }

  /** Answers a service, async or sync over RRPC (ITE_SERVICE_REQUEST); returns a function that removes it. */
  onService(...args: Parameters<ThingClient['onService']>): ReturnType<ThingClient['onService']> {
    return this.thing.onService(...args)
  }

  /** Applies property sets from the cloud (ITE_PROPERTY_SET); returns a function that removes it. */
  onPropertySet(...args: Parameters<ThingClient['onPropertySet']>): ReturnType<ThingClient['onPropertySet']> {
    return this.thing.onPropertySet(...args)
  }

  /** Answers property gets from the cloud (ITE_PROPERTY_GET); returns a function that removes it. */
  onPropertyGet(...args: Parameters<ThingClient['onPropertyGet']>): ReturnType<ThingClient['onPropertyGet']> {
    return this.thing.onPropertyGet(...args)
  }

  /** Asks the platform for its time (ITM_MSG_QUERY_TIMESTAMP). */
  ntp(...args: Parameters<ThingClient['ntp']>): ReturnType<ThingClient['ntp']> {
    return this.thing.ntp(...args)
  }
}
