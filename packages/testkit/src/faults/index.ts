export { checkFaultRow, mergeFaultRows, type FaultMatrix, type FaultRow } from './fault-row.js';
export { FAULTS_RESULTS, faultScenario, recordFaults, secondsSince, type FaultResult } from './fault-matrix.js';
