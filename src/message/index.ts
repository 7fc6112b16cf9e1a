/**
 * Public API of the parsed message model: other checks import from here only.
 * `parseMessage(raw)` is memoized per Buffer; see types.ts for the ParsedMessage shape.
 */
export { parseMessage, setParseLimits, getParseLimits, DEFAULT_PARSE_LIMITS } from './parse.js';
export type { ParsedMessage, HeaderField, MailAddress, UriInfo, UriSource, AttachmentInfo, HtmlSignals, ParseLimits } from './types.js';
export { domainShownInText } from './uris.js';
export { lastExtension } from './sniff.js';
