// Types of the JMAP core (RFC 8620) and mail (RFC 8621) objects the webmail
// uses. Only the properties the app reads or writes are declared.

export type Id = string;
/** RFC 3339 date-time in UTC ("Z"), RFC 8620 §1.4. */
export type UTCDate = string;

export const CAP_CORE = 'urn:ietf:params:jmap:core';
export const CAP_MAIL = 'urn:ietf:params:jmap:mail';
export const CAP_SUBMISSION = 'urn:ietf:params:jmap:submission';
/** Freehold's label definitions (names and colours of keywords). */
export const CAP_LABELS = 'urn:freehold:params:jmap:labels';
/** Freehold's sanitised-HTML view of an email. */
export const CAP_HTML = 'urn:freehold:params:jmap:html';
/** RFC 8621 §8: the automatic reply while away. */
export const CAP_VACATION = 'urn:ietf:params:jmap:vacationresponse';
/** Freehold's per-user settings the server acts on (Settings/get, Settings/set). */
export const CAP_SETTINGS = 'urn:freehold:params:jmap:settings';
/** Freehold's messages held by SMTP FUTURERELEASE (HeldMessage/get, /set). */
export const CAP_HELD = 'urn:freehold:params:jmap:held';

/** RFC 8620 §2: the core capability object. */
export interface CoreCapability {
  maxSizeUpload: number;
  maxConcurrentUpload: number;
  maxSizeRequest: number;
  maxConcurrentRequests: number;
  maxCallsInRequest: number;
  maxObjectsInGet: number;
  maxObjectsInSet: number;
  collationAlgorithms: string[];
}

export interface HtmlCapability {
  /** URL template with {accountId}, {emailId} and {remote} ("0" or "1"). */
  htmlUrl?: string;
}

export interface Account {
  name: string;
  isPersonal: boolean;
  isReadOnly: boolean;
  accountCapabilities: Record<string, unknown>;
}

/** RFC 8620 §2: the Session resource. */
export interface Session {
  capabilities: Record<string, unknown>;
  accounts: Record<Id, Account>;
  primaryAccounts: Record<string, Id>;
  username: string;
  apiUrl: string;
  downloadUrl: string;
  uploadUrl: string;
  eventSourceUrl: string;
  state: string;
}

/** RFC 8620 §3.2: [name, arguments, method call id]. */
export type Invocation = [string, Record<string, unknown>, string];

/** RFC 8620 §3.7: a back-reference to an earlier call's result. */
export interface ResultReference {
  resultOf: string;
  name: string;
  path: string;
}

export interface JmapRequest {
  using: string[];
  methodCalls: Invocation[];
  createdIds?: Record<Id, Id>;
}

export interface JmapResponse {
  methodResponses: Invocation[];
  createdIds?: Record<Id, Id>;
  sessionState: string;
}

/** RFC 8620 §7.1: the push StateChange object. */
export interface StateChange {
  '@type': 'StateChange';
  changed: Record<Id, Record<string, string>>;
}

/** RFC 8620 §6.1: the upload response. */
export interface UploadResult {
  accountId: Id;
  blobId: Id;
  type: string;
  size: number;
}

// Standard method shapes, RFC 8620 §5.

export interface GetResponse<T> {
  accountId: Id;
  state: string;
  list: T[];
  notFound: Id[];
}

export interface ChangesResponse {
  accountId: Id;
  oldState: string;
  newState: string;
  hasMoreChanges: boolean;
  created: Id[];
  updated: Id[];
  destroyed: Id[];
}

export interface MailboxChangesResponse extends ChangesResponse {
  updatedProperties: string[] | null;
}

export interface SetError {
  type: string;
  description?: string;
  properties?: string[];
}

export interface SetResponse<T> {
  accountId: Id;
  oldState: string | null;
  newState: string;
  created: Record<Id, Partial<T> & { id: Id }> | null;
  updated: Record<Id, Partial<T> | null> | null;
  destroyed: Id[] | null;
  notCreated: Record<Id, SetError> | null;
  notUpdated: Record<Id, SetError> | null;
  notDestroyed: Record<Id, SetError> | null;
}

export interface QueryResponse {
  accountId: Id;
  queryState: string;
  canCalculateChanges: boolean;
  position: number;
  ids: Id[];
  total?: number;
  limit?: number;
}

export interface AddedItem {
  id: Id;
  index: number;
}

export interface QueryChangesResponse {
  accountId: Id;
  oldQueryState: string;
  newQueryState: string;
  total?: number;
  removed: Id[];
  added: AddedItem[];
}

export interface Comparator {
  property: string;
  isAscending?: boolean;
  collation?: string;
  keyword?: string;
}

// Mail objects, RFC 8621.

/** RFC 8621 §2. */
export interface Mailbox {
  id: Id;
  name: string;
  parentId: Id | null;
  role: string | null;
  sortOrder: number;
  totalEmails: number;
  unreadEmails: number;
  totalThreads: number;
  unreadThreads: number;
  isSubscribed: boolean;
}

/** RFC 8621 §3. */
export interface Thread {
  id: Id;
  emailIds: Id[];
}

/** RFC 8621 §4.1.2.3. */
export interface EmailAddress {
  name: string | null;
  email: string;
}

/** RFC 8621 §4.1.4. */
export interface EmailBodyPart {
  partId: string | null;
  blobId: Id | null;
  size: number;
  name: string | null;
  type: string;
  charset: string | null;
  disposition: string | null;
  cid: string | null;
}

export interface EmailBodyValue {
  value: string;
  isEncodingProblem: boolean;
  isTruncated: boolean;
}

/** RFC 8621 §4.1. */
export interface Email {
  id: Id;
  blobId: Id;
  threadId: Id;
  mailboxIds: Record<Id, boolean>;
  keywords: Record<string, boolean>;
  size: number;
  receivedAt: UTCDate;
  messageId: string[] | null;
  inReplyTo: string[] | null;
  references: string[] | null;
  from: EmailAddress[] | null;
  to: EmailAddress[] | null;
  cc: EmailAddress[] | null;
  bcc: EmailAddress[] | null;
  replyTo: EmailAddress[] | null;
  subject: string | null;
  sentAt: string | null;
  hasAttachment: boolean;
  preview: string;
  textBody: EmailBodyPart[];
  htmlBody: EmailBodyPart[];
  attachments: EmailBodyPart[];
  bodyValues: Record<string, EmailBodyValue>;
}

/** RFC 8621 §6. */
export interface Identity {
  id: Id;
  name: string;
  email: string;
  replyTo: EmailAddress[] | null;
  bcc: EmailAddress[] | null;
  textSignature: string;
  htmlSignature: string;
  mayDelete: boolean;
}

/** RFC 8621 §7: SMTP envelope address with its MAIL/RCPT parameters. */
export interface EnvelopeAddress {
  email: string;
  parameters: Record<string, string | null> | null;
}

export interface Envelope {
  mailFrom: EnvelopeAddress;
  rcptTo: EnvelopeAddress[];
}

export type UndoStatus = 'pending' | 'final' | 'canceled';

/** RFC 8621 §7. */
export interface EmailSubmission {
  id: Id;
  identityId: Id;
  emailId: Id;
  threadId: Id;
  envelope: Envelope | null;
  sendAt: UTCDate;
  undoStatus: UndoStatus;
}

/**
 * Freehold (under CAP_SUBMISSION): a message held in the outbound queue by
 * SMTP FUTURERELEASE, not an EmailSubmission. HeldMessage/set destroy
 * cancels it.
 */
export interface HeldMessage {
  id: Id;
  mailFrom: string;
  rcptTo: string[];
  sendAt: UTCDate;
  subject: string;
  to: EmailAddress[];
  size: number;
}

/** The settings singleton (CAP_SETTINGS); its id is "singleton". */
export interface Settings {
  id: Id;
  /** How long a submission stays pending, and can be undone, before it goes (0-30). */
  undoSendSeconds: number;
}

/** RFC 8621 §8.1: the VacationResponse singleton. */
export interface VacationResponse {
  id: Id;
  isEnabled: boolean;
  fromDate: UTCDate | null;
  toDate: UTCDate | null;
  subject: string | null;
  textBody: string | null;
  htmlBody: string | null;
}

/** A label definition (CAP_LABELS): the keyword is what Emails carry. */
export interface Label {
  id: Id;
  name: string;
  color: string;
  keyword: string;
}
