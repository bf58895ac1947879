// The second baseline: the plain Node downloader anyone would write (http.get, MD5 as data
// arrives, a file write stream, the file flushed to disk before close), in its own process.
// Argument: one JSON object { url, digest, path, fsync }. Prints { ms (after the imports), cpuMs, peakRssMiB }.
import { createHash } from 'node:crypto'
import { createWriteStream, readFileSync } from 'node:fs'
import { get } from 'node:http'
import { pipeline } from 'node:stream/promises'

const t0 = performance.now()
const job = JSON.parse(process.argv[2])
const hash = createHash('md5')
await new Promise((resolve, reject) => {
  get(job.url, (res) => {
    res.on('data', (chunk) => hash.update(chunk))
    pipeline(res, createWriteStream(job.path, { flush: job.fsync })).then(resolve, reject)
  }).on('error', reject)
})
if (hash.digest('hex') !== job.digest) throw new Error('plain Node baseline: digest mismatch')
const ms = performance.now() - t0
const cpu = process.cpuUsage()
const cpuMs = (cpu.user + cpu.system) / 1000
const peakRssMiB = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024
console.log(JSON.stringify({ ms, cpuMs, peakRssMiB }))
