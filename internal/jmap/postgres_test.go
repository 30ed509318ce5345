package jmap

import "testing"

// TestPostgres runs the main scenarios on PostgreSQL, the scaled mode's
// store: the JMAP queries have engine-specific parts (JSON, substring).
func TestPostgres(t *testing.T) {
	for name, fn := range map[string]func(*testing.T, *testEnv){
		"EmailGet":                      testEmailGet,
		"EmailImportParse":              testEmailImportParse,
		"EmailQuery":                    testEmailQuery,
		"EmailQueryChanges":             testEmailQueryChanges,
		"EmailSetCreateDraft":           testEmailSetCreateDraft,
		"EmailSetUpdateDestroy":         testEmailSetUpdateDestroy,
		"IMAPJMAPStates":                testIMAPJMAPStates,
		"IdentityLabelVacation":         testIdentityLabelVacation,
		"Isolation":                     testIsolation,
		"MailboxCountsIncremental":      testMailboxCountsIncremental,
		"MailboxQuery":                  testMailboxQuery,
		"MailboxSetAndChanges":          testMailboxSetAndChanges,
		"SearchSnippet":                 testSearchSnippet,
		"SubmissionSendLaterAndNoDelay": testSubmissionSendLaterAndNoDelay,
		"SubmissionUndo":                testSubmissionUndo,
		"Threads":                       testThreads,
		"VacationAutoReply":             testVacationAutoReply,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, newPGEnv(t))
		})
	}
}
