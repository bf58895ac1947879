// One firmware download through linkkit's built packages (streaming GET, MD5 as bytes arrive,
// FilePersistence with fsync and atomic rename), in its own process with no TypeScript loader,
// so its time and peak RSS are linkkit's own. Prints { ms, maxRssMiB }.
import { downloadFirmware, FilePersistence } from '@linkkit/fota'

const [url, size, md5, path, fsync = 'true'] = process.argv.slice(2)
const image = { version: 'bench', size: Number(size), signMethod: 'Md5', digest: md5 }
const persistence = new FilePersistence({ path, fsync: fsync === 'true' })
const t0 = performance.now()
await persistence.start(image, 0)
await downloadFirmware({ ...image, url }, (chunk, offset) => persistence.write(chunk, offset), {
  allowHttp: true,
})
await persistence.stop({ ok: true })
const ms = performance.now() - t0
console.log(JSON.stringify({ ms, maxRssMiB: process.resourceUsage().maxRSS / 1024 }))
