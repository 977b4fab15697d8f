/**
 * ascp's management-port error codes (faspex-protocol.md §6.4): what each means in plain words
 * and what a worker should do about it. The retry flag follows ascli's table (which mirrors
 * ascp's own `as_mgmt_err_is_retryable`), with two deliberate deviations, both because the
 * retry decision here can do more than re-run the same command:
 *  - 34 (token refused) becomes 'refresh': a freshly resolved link carries a new token;
 *  - 25 (disk full) is DISK_FULL, to retry 'later': the worker waits for space without spending
 *    an attempt (the partial files stay for the resume); it is no fault of the package.
 *  - 49 (bad decryption passphrase) is PASSPHRASE_WRONG: retrying with the same one cannot help.
 * Pure: no I/O.
 */
import type { ErrorCode, RetryDecision } from '../errors.js';

export interface AscpErrorInfo {
  code: number;
  /** ascp's mnemonic, e.g. CONNECTION_LOST */
  name: string;
  /** what happened, in words an operator understands */
  plain: string;
  retryable: boolean;
}

// [code, name, plain words, retryable]
const TABLE: ReadonlyArray<readonly [number, string, string, boolean]> = [
  [0, 'UNKNOWN', 'ascp failed for a reason it did not name', false],
  [1, 'FASP_PROTO', 'a FASP protocol error', false],
  [2, 'ASCP', 'a generic ascp error', false],
  [3, 'AMBIGUOUS_TARGET', 'the download target was specified incorrectly', false],
  [4, 'NO_SUCH_FILE', 'the package files do not exist on the server (deleted or moved)', false],
  [5, 'NO_PERMS', 'permission denied reading or writing the files', false],
  [6, 'NOT_DIR', 'the download target is not a folder', false],
  [7, 'IS_DIR', 'a folder was found where a file was expected', false],
  [8, 'USAGE', 'ascp was called with arguments it does not accept', false],
  [9, 'LIC_DUP', 'the Aspera licence is duplicated', false],
  [10, 'LIC_RATE_EXCEEDED', 'the requested rate exceeds the Aspera licence', false],
  [11, 'INTERNAL_ERROR', 'ascp hit an internal error', false],
  [12, 'TRANSFER_ERROR', 'the SSH control connection to the transfer server failed', true],
  [13, 'TRANSFER_TIMEOUT', 'the SSH control connection to the transfer server timed out', true],
  [14, 'CONNECTION_ERROR', 'the UDP data connection to the transfer server failed', true],
  [15, 'CONNECTION_TIMEOUT', 'the UDP data connection to the transfer server timed out', true],
  [16, 'CONNECTION_LOST', 'the connection to the transfer server was lost', true],
  [17, 'RCVR_SEND_ERROR', 'a network failure: this machine could not send feedback to the server', true],
  [18, 'RCVR_RECV_ERROR', 'a network failure: this machine could not receive data from the server', true],
  [19, 'AUTH', 'the transfer server refused the login', false],
  [20, 'NOTHING', 'there was nothing to transfer', false],
  [21, 'NOT_REGULAR', 'a special (non-regular) file was met', false],
  [22, 'FILE_TABLE_OVR', 'the file table overflowed', false],
  [23, 'TOO_MANY_FILES', 'too many files were open at once', true],
  [24, 'FILE_TOO_BIG', 'a file is too big for the download file system', false],
  [25, 'NO_SPACE_LEFT', 'the download disk is full', false],
  [26, 'READ_ONLY_FS', 'the download file system is read-only', false],
  [27, 'SOME_FILE_ERRS', 'some files of the package failed', false],
  [28, 'USER_CANCEL', 'the transfer was cancelled', false],
  [29, 'LIC_NOLIC', 'the Aspera licence was not found or cannot be read', false],
  [30, 'LIC_EXPIRED', 'the Aspera licence has expired', false],
  [31, 'SOCK_SETUP', 'ascp could not set up a network socket', false],
  [32, 'OUT_OF_MEMORY', 'ascp ran out of memory', true],
  [33, 'THREAD_SPAWN', 'ascp could not start a thread', true],
  [34, 'UNAUTHORIZED', 'the server refused the transfer token (expired or not valid for this package)', false],
  [35, 'DISK_READ', 'the server could not read the files from its disk', true],
  [36, 'DISK_WRITE', 'writing to the download disk failed', true],
  [37, 'AUTHORIZATION', 'the transfer was not authorised', true],
  [38, 'LIC_ILLEGAL', 'the Aspera licence does not permit this operation', false],
  [39, 'PEER_ABORTED_SESSION', 'the transfer server ended the session', true],
  [40, 'DATA_TRANSFER_TIMEOUT', 'the transfer stalled and timed out', true],
  [41, 'BAD_PATH', 'the path lies outside what the server allows (docroot)', false],
  [42, 'ALREADY_EXISTS', 'a file or folder of that name already exists', false],
  [43, 'STAT_FAILS', 'a file could not be examined', false],
  [44, 'PMTU_BRTT_ERROR', 'starting the UDP session failed', true],
  [45, 'BWMEAS_ERROR', 'measuring the bandwidth failed', true],
  [46, 'VLINK_ERROR', 'a virtual link error', false],
  [47, 'CONNECTION_ERROR_HTTP', 'the HTTP fallback connection failed', true],
  [48, 'FILE_ENCRYPTION_ERROR', 'a file could not be encrypted or decrypted (corrupt file?)', false],
  [49, 'FILE_DECRYPTION_PASS', 'the passphrase to decrypt the files is wrong', false],
  [50, 'BAD_CONFIGURATION', 'aspera.conf holds invalid settings', false],
  [51, 'INSECURE_CONNECTION', 'the transfer server is not who it claims to be (host key check failed)', false],
  [52, 'START_VALIDATION_FAILED', 'the server refused to start a file (validation)', false],
  [53, 'STOP_VALIDATION_FAILED', 'the server refused a finished file (validation)', false],
  [54, 'THRESHOLD_VALIDATION_FAILED', 'a file failed threshold validation', false],
  [55, 'FILEPATH_TOO_LONG', 'a file path is too long for the download file system', false],
  [56, 'ILLEGAL_CHARS_IN_PATH', 'a file path holds characters the file system does not allow', false],
  [57, 'CHUNK_MUST_MATCH_ALIGNMENT', 'chunk size or start is not aligned with the storage', false],
  [58, 'VALIDATION_SESSION_ABORT', 'the session was aborted by a validation error', false],
  [59, 'REMOTE_STORAGE_ERROR', 'the server\'s storage failed', false],
  [60, 'LUA_SCRIPT_ABORTED_SESSION', 'a server-side script aborted the session', false],
  [61, 'SSEAR_RETRYABLE', 'a temporary encryption-at-rest error on the server', true],
  [62, 'SSEAR_FATAL', 'a fatal encryption-at-rest error on the server', false],
  [63, 'LINK_LOOP', 'a path is a symbolic-link loop', false],
  [64, 'CANNOT_RENAME_PARTIAL_FILES', 'a partial file could not be renamed to its final name', false],
  [65, 'CIPHER_NON_COMPAT_FIPS', 'the cipher is not allowed in FIPS mode', false],
  [66, 'PEER_REQUIRES_FIPS', 'the server refuses the cipher because it runs in FIPS mode', false],
  [67, 'UPLOAD_IN_PROGRESS', 'an upload of the same files is still in progress', false],
  [68, 'MIN_VERSION_CHECK', 'this ascp is older than the server requires', false],
  [69, 'MAX_ASCP', 'the server runs too many ascp processes at the moment', true],
];

export const ASCP_ERRORS: ReadonlyMap<number, AscpErrorInfo> = new Map(
  TABLE.map(([code, name, plain, retryable]) => [code, { code, name, plain, retryable }]),
);

export function ascpErrorInfo(code: number): AscpErrorInfo {
  return ASCP_ERRORS.get(code) ?? { code, name: 'UNKNOWN', plain: `ascp failed with an unknown error code ${code}`, retryable: false };
}

export interface AscpFailureDecision {
  errorCode: ErrorCode;
  retry: RetryDecision;
  /** one line for people: plain words, then ascp's own text */
  message: string;
  info: AscpErrorInfo;
}

const TOKEN_DENIED = /token (?:denied|expired|refused|invalid)|authori[sz]ation refused/i;

/** The decision for a management ERROR event (code and ascp's Description). */
export function decideAscpError(code: number, description: string | undefined): AscpFailureDecision {
  const info = ascpErrorInfo(code);
  const desc = (description ?? '').trim();
  const said = desc && desc.toLowerCase() !== info.plain.toLowerCase() ? ` (ascp error ${code} ${info.name}: ${desc})` : ` (ascp error ${code} ${info.name})`;
  if (code === 34 || TOKEN_DENIED.test(desc)) {
    return { errorCode: 'TOKEN_REFUSED', retry: 'refresh', message: `${ascpErrorInfo(34).plain}${said}`, info };
  }
  // Only we (shutdown, watchdog) or a signal to the whole process group (Ctrl-C) cancel ascp;
  // either way the package must resume later, not fail for good.
  if (code === 28) return { errorCode: 'CANCELLED', retry: 'later', message: `${info.plain}; partial files are kept for a resume${said}`, info };
  // Only sent with --fail-bad-filepass (ascp-command.ts): the passphrase we gave is not the package's.
  if (code === 49) return { errorCode: 'PASSPHRASE_WRONG', retry: 'never', message: `${info.plain}${said}`, info };
  if (code === 25) return { errorCode: 'DISK_FULL', retry: 'later', message: `waiting for disk space: ${info.plain}; the partial files are kept and the download goes on by itself once there is room${said}`, info };
  // ascli: "Target address not available" is a configuration problem, not a network blip.
  if (code === 14 && /target address not available/i.test(desc)) {
    return { errorCode: 'TRANSFER_FAILED', retry: 'never', message: `the transfer server's data address is not reachable from here${said}`, info };
  }
  return { errorCode: 'TRANSFER_FAILED', retry: info.retryable ? 'later' : 'never', message: `${info.plain}${said}`, info };
}
