package imapserver

import "context"

// pollMode says whether, after a command, the session reports other
// sessions' changes, and whether EXPUNGE responses may be among them.
type pollMode uint8

const (
	// pollAll reports everything, expunges included.
	pollAll pollMode = iota
	// pollNoExpunge holds expunges back: RFC 9051 §7.5.1 forbids EXPUNGE
	// while answering FETCH, STORE and SEARCH (and, by the same reasoning,
	// SORT and THREAD), since a pipelined command's sequence numbers
	// would shift under it. Their UID forms may report them.
	pollNoExpunge
	// pollNever is for commands that manage the view themselves (SELECT,
	// IDLE) or leave the selected state.
	pollNever
)

// command is an entry of the command table.
type command struct {
	states state
	uid    bool // may follow "UID "
	poll   pollMode
	run    func(ctx context.Context, c *conn, k *cmd) error
}

// commandTable maps upper-case command names to their handlers. It is
// built once per Server and never modified.
func commandTable() map[string]command {
	return map[string]command{
		// Any state: RFC 9051 §6.1.
		"CAPABILITY": {states: anyState, run: cmdCapability},
		"NOOP":       {states: anyState, run: cmdNoop},
		"LOGOUT":     {states: anyState, poll: pollNever, run: cmdLogout},
		"ID":         {states: anyState, run: cmdID},

		// Not authenticated: RFC 9051 §6.2.
		"STARTTLS":     {states: stateNotAuth, run: cmdStartTLS},
		"AUTHENTICATE": {states: stateNotAuth, run: cmdAuthenticate},
		"LOGIN":        {states: stateNotAuth, run: cmdLogin},

		// Authenticated: RFC 9051 §6.3.
		"ENABLE":       {states: authState, run: cmdEnable},
		"SELECT":       {states: authState, poll: pollNever, run: cmdSelect},
		"EXAMINE":      {states: authState, poll: pollNever, run: cmdSelect},
		"CREATE":       {states: authState, run: cmdCreate},
		"DELETE":       {states: authState, run: cmdDelete},
		"RENAME":       {states: authState, run: cmdRename},
		"SUBSCRIBE":    {states: authState, run: cmdSubscribe},
		"UNSUBSCRIBE":  {states: authState, run: cmdSubscribe},
		"LIST":         {states: authState, run: cmdList},
		"LSUB":         {states: authState, run: cmdList},
		"NAMESPACE":    {states: authState, run: cmdNamespace},
		"STATUS":       {states: authState, run: cmdStatus},
		"APPEND":       {states: authState, run: cmdAppend},
		"IDLE":         {states: authState, poll: pollNever, run: cmdIdle},
		"GETQUOTA":     {states: authState, run: cmdGetQuota},
		"GETQUOTAROOT": {states: authState, run: cmdGetQuotaRoot},
		"SETQUOTA":     {states: authState, run: cmdSetQuota},
		"COMPRESS":     {states: authState, poll: pollNever, run: cmdCompress},

		// Selected: RFC 9051 §6.4.
		"CHECK":    {states: stateSelected, run: cmdNoop},
		"CLOSE":    {states: stateSelected, poll: pollNever, run: cmdClose},
		"UNSELECT": {states: stateSelected, poll: pollNever, run: cmdClose},
		"EXPUNGE":  {states: stateSelected, uid: true, run: cmdExpunge},
		"SEARCH":   {states: stateSelected, uid: true, poll: pollNoExpunge, run: cmdSearch},
		"FETCH":    {states: stateSelected, uid: true, poll: pollNoExpunge, run: cmdFetch},
		"STORE":    {states: stateSelected, uid: true, poll: pollNoExpunge, run: cmdStore},
		"COPY":     {states: stateSelected, uid: true, run: cmdCopy},
		"MOVE":     {states: stateSelected, uid: true, run: cmdCopy},
		"SORT":     {states: stateSelected, uid: true, poll: pollNoExpunge, run: cmdSort},
		"THREAD":   {states: stateSelected, uid: true, poll: pollNoExpunge, run: cmdThread},
	}
}
