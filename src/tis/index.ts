/**
 * TIS 1.2 / TIS 1.3 / PTP FIFO register interface (TCG PC Client TIS / PTP, as QEMU
 * `hw/tpm/tpm_tis_common.c` models it): public API.
 */
export * from './registers.js';
export { TIS_FSM, TIS_FSM_STATES, type TisFsmState, type TisSnapshot, type LocalityRegs } from './state.js';
export { accessProblem, isAccessSize, type AccessSize } from './decode.js';
export { TisDevice, DYNAMIC_LAUNCH_IGNORED, TIS_EXECUTION_READS_MAX, type TisDeviceOptions } from './device.js';
export { TisSnapshotError } from './snapshot.js';
export type { TisStateView, TisLocalityView, TisAccessView, TisStsView } from './view.js';
export {
  runMmioBatch,
  validateMmioBatch,
  MmioValidationError,
  MMIO_BATCH_LIMITS,
  type MmioOp,
  type MmioResult,
} from './mmio-batch.js';
