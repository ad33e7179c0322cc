export { ContentNotFoundError, purgeCutoffMs } from './content-store';
export type {
  ByteRange, ObjectInfo, AppendState, JsonValue, ContentStatter, ContentReader, ContentWriter, ContentDeleter,
  ContentLister, ContentAppender, ContentPurger, ContentStore,
} from './content-store';
export { CONTENT_LAYOUT_VERSION, blobKey, manifestKey, assertValidKey } from './layout';
export { type SelfCountingBody, isSelfCounting } from './self-counting';
