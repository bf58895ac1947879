import { DEFAULT_MODULE, type Firmware } from './types.js'

/**
 * The `data` of an upgrade push and of a `firmware/get` reply (docs/protocol.md §3.3, §6 item 6):
 * single-file `{size, version, url, md5, sign, signMethod, module?, extData?, isDiff?}` with a
 * lowercase `md5` even for SHA256 packages (3.x needs it), or the 4.x multi-file shape with the
 * common fields at `data` level and `files: [{fileName, fileSize, fileUrl, fileSign, fileMd5}]`.
 * `module` is sent only for a non-default module.
 */
export function pushData(firmware: Firmware): Record<string, unknown> {
  const common: Record<string, unknown> = {}
  if (firmware.module !== DEFAULT_MODULE) common.module = firmware.module
  if (firmware.extData !== undefined) common.extData = firmware.extData
  if (firmware.isDiff) common.isDiff = 1
  if (firmware.multiFile) {
    return {
      version: firmware.version,
      signMethod: firmware.signMethod,
      ...common,
      files: firmware.files.map((file) => ({
        fileName: file.name,
        fileSize: file.size,
        fileUrl: file.url,
        fileSign: file.sign,
        fileMd5: file.md5,
      })),
    }
  }
  return {
    size: firmware.size,
    version: firmware.version,
    url: firmware.url,
    md5: firmware.md5,
    sign: firmware.sign,
    signMethod: firmware.signMethod,
    ...common,
  }
}

/**
 * The push envelope. 3.x requires `"message":"success"` and a `data` key and ignores `code`; 4.x
 * reads only `data`; the platform sends `code` as the string "1000" and a numeric `id` (§3.3).
 */
export function pushEnvelope(id: number, firmware: Firmware): string {
  return JSON.stringify({ code: '1000', data: pushData(firmware), id, message: 'success' })
}
