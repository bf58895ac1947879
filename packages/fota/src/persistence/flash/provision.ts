import type { FirmwareImage } from '../../types.js'
import { digestOf } from '../digest.js'
import type { FlashSimProvisionOptions } from '../flash-sim-options.js'
import { writeBootRecord } from './boot-record.js'
import type { FlashLayout } from './layout.js'
import type { NorFlash } from './nor-flash.js'
import { SlotWriter } from './slot-writer.js'

/** Factory flashing: `image` into slot A, committed, and a boot record that confirms slot A. Closes `flash`. */
export async function provisionFlash(
  flash: NorFlash,
  layout: FlashLayout,
  factory: FlashSimProvisionOptions['image'],
): Promise<void> {
  const signMethod = factory.signMethod ?? 'SHA256'
  const image: FirmwareImage = {
    version: factory.version,
    size: factory.data.length,
    signMethod,
    digest: digestOf(signMethod, [factory.data]),
    ...(factory.module === undefined ? {} : { module: factory.module }),
  }
  try {
    const writer = await SlotWriter.begin(flash, layout, 'A', image)
    await writer.write(factory.data, 0)
    await writer.commit()
    await writeBootRecord(flash, {
      active: 'A',
      pending: undefined,
      trial: false,
      extraBoots: 0,
      securityVersion: 0,
      rolledBack: undefined,
      confirmWithinMs: 0,
      trialStartedAt: 0,
    })
  } finally {
    await flash.close()
  }
}
