/** Change feeds: every change of a Klaviyo stream since a checkpoint, exactly once across runs. */
export { checkCheckpointFor, type FeedCheckpoint, parseCheckpoint, type Watermark } from "./checkpoint.js";
export {
  type Change,
  type ChangeFeedOptions,
  type ChangePage,
  changeFeed,
  DEFAULT_HORIZON_SECONDS,
  DEFAULT_LOOKBACK_SECONDS,
  type FeedRecord,
  initialCheckpoint,
} from "./feed.js";
export {
  CAMPAIGN_CHANNELS,
  type ChangeKind,
  STREAM_NAMES,
  STREAMS,
  type StreamDefinition,
  type StreamName,
  type StreamScope,
} from "./streams.js";
