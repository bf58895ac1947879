/**
 * Protocol limits of gateway messages. The SDK enforces them before sending (ERR_SUBDEVICE_LIMIT)
 * or splits its own batches to fit.
 */
export const SubDeviceLimits = Object.freeze({
  /** "A single batch request to bring sub-devices online or offline cannot contain more than 50 sub-devices" (platform docs, sub-device online and offline). */
  sessionBatch: 50,
  /** "Up to 30 sub-devices can be added at a time" (platform docs, manage topological relationships); registration requests are kept to the same size. */
  topoBatch: 30,
  /** Gateway pack post: "200 properties, 20 events, 20 sub-devices per message" (docs/protocol.md §2.3). */
  packSubDevices: 20,
  /** Properties per pack post. */
  packProperties: 200,
  /** Events per pack post. */
  packEvents: 20,
})
