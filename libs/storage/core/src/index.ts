export { ContentNotFoundError } from './content-store';
export type {
  ByteRange, ObjectInfo, AppendState, JsonValue, ContentStatter, ContentReader, ContentWriter, ContentDeleter,
  ContentLister, ContentAppender, ContentStore,
} from './content-store';
export { CONTENT_LAYOUT_VERSION, blobKey, manifestKey, assertValidKey } from './layout';
