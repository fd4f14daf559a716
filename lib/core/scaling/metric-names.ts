/**
 * Our own CloudWatch metrics, published as embedded metric format (EMF) log
 * lines by @aws-lambda-powertools/metrics. The dashboard in serverless.yml
 * reads these names; the dimension is Powertools' default `service`.
 */
export const METRICS_NAMESPACE = 'PydioAutoscaler';
export const METRICS_SERVICE = 'pydio-autoscaler';

export const METRIC = {
  /** Count: desired capacity raised by the alarm function (sum of steps). */
  scaleOut: 'ScaleOut',
  /** Count: desired capacity lowered by the alarm function. */
  scaleIn: 'ScaleIn',
  /** Count: decisions that did not act (suppressed or refused). */
  scaleSuppressed: 'ScaleSuppressed',
  /** Count: storage expansions requested (accepted or not). */
  storageExpansionRequested: 'StorageExpansionRequested',
  /** Seconds from hook to completion, per lifecycle flow (published by the lifecycle function). */
  lifecycleDuration: 'LifecycleDurationSeconds',
  /** Count: lifecycle flows that failed (published by the lifecycle function). */
  lifecycleFailures: 'LifecycleFailures',
  /** Count: lost lifecycle events the watch re-drove (one per instance and transition). */
  watchRedriven: 'WatchLostEventsRedriven',
  /** Count: compute nodes the watch marked Unhealthy (the group replaces them). */
  watchMarkedUnhealthy: 'WatchNodesMarkedUnhealthy',
  /** Gauge: bricks offline across the Gluster volumes (published by the storage tier; 0 = healthy). */
  glusterBricksOffline: 'GlusterBricksOffline',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];
