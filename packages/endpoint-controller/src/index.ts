// DSR receive side: startEndpointController (the binary's wiring) and desiredPods, the pure choice of which pods get the VIPs.
export { startEndpointController, type EndpointControllerConfig, type RunningEndpointController } from './app.js';
export { desiredPods, type DesiredInput, type DesiredPods, type PodTarget, type SkippedPod, type SkipReason } from './desired.js';
