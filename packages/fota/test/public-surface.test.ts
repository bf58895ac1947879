import { describe, expect, it } from 'vitest'
import * as fota from '../src/index.js'

// Issue 12: the index named nothing (`export *` of every module), so internals such as
// performFota, failureStep, assertStep, retryDelayMs, PullDownload and ProgressReporter were
// public, and any refactor a breaking change. The runtime surface is now this list.
describe('@linkkit/fota public surface', () => {
  it('exports exactly the named runtime values', () => {
    expect(Object.keys(fota).sort()).toEqual(
      [
        'FilePersistence',
        'FlashSimPersistence',
        'FotaClient',
        'MEMORY_PERSISTENCE_MAX_BYTES',
        'MemoryPersistence',
        'OtaProgress',
        'OtaSession',
        'OtaState',
        'downloadFirmware',
        'fetchConfig',
        'isResumable',
        'parseConfigOffer',
        'parseDigestMethod',
        'parseOfferData',
        'parseUpgradePush',
        // Issue 13: update policies and the desc of a rollback report.
        'ROLLED_BACK_DESC',
        'allowWhen',
        'enoughRoom',
        'maintenanceWindow',
        'retryBudget',
      ].sort(),
    )
  })

  it('keeps the OTA channel and the download machinery internal', () => {
    for (const internal of [
      'OtaChannel',
      'performFota',
      'failureStep',
      'assertStep',
      'assertVersion',
      'informVersion',
      'retryDelayMs',
      'PullDownload',
      'ProgressReporter',
      'parseSignMethod',
    ]) {
      expect(fota, internal).not.toHaveProperty(internal)
    }
  })
})
