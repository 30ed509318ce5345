package jmap

import (
	"context"
	"encoding/json"
)

// methodTable lists every method with the capability it needs
// (RFC 8620 §3.6.2: a method whose capability is not in "using" is an
// unknownMethod).
func (s *Server) methodTable() map[string]method {
	return map[string]method{
		// RFC 8620 §4.
		"Core/echo": {CapCore, coreEcho},
		// RFC 8621 §2.
		"Mailbox/get":          {CapMail, mailboxGet},
		"Mailbox/changes":      {CapMail, mailboxChanges},
		"Mailbox/query":        {CapMail, mailboxQuery},
		"Mailbox/queryChanges": {CapMail, mailboxQueryChanges},
		"Mailbox/set":          {CapMail, mailboxSet},
		"Thread/get":           {CapMail, threadGet},
		"Thread/changes":       {CapMail, threadChanges},
		"Email/get":            {CapMail, emailGet},
		"Email/changes":        {CapMail, emailChanges},
		"Email/query":          {CapMail, emailQuery},
		"Email/queryChanges":   {CapMail, emailQueryChanges},
		"Email/set":            {CapMail, emailSet},
		"Email/import":         {CapMail, emailImport},
		"Email/copy":           {CapMail, emailCopy},
		"Email/parse":          {CapMail, emailParse},
		"SearchSnippet/get":    {CapMail, searchSnippetGet},
		// RFC 8621 §6, §8.
		"Identity/get":                 {CapSubmit, identityGet},
		"Identity/changes":             {CapSubmit, identityChanges},
		"Identity/set":                 {CapSubmit, identitySet},
		"EmailSubmission/get":          {CapSubmit, submissionGet},
		"EmailSubmission/changes":      {CapSubmit, submissionChanges},
		"EmailSubmission/query":        {CapSubmit, submissionQuery},
		"EmailSubmission/queryChanges": {CapSubmit, submissionQueryChanges},
		"EmailSubmission/set":          {CapSubmit, submissionSet},
		"VacationResponse/get":         {CapVacation, vacationGet},
		"VacationResponse/set":         {CapVacation, vacationSet},
		// Freehold extensions.
		"Label/get":     {CapLabels, labelGet},
		"Label/changes": {CapLabels, labelChanges},
		"Label/set":     {CapLabels, labelSet},
		"Settings/get":  {CapSettings, settingsGet},
		"Settings/set":  {CapSettings, settingsSet},

		// Messages held by SMTP FUTURERELEASE (submission_held.go).
		"HeldMessage/get": {CapHeld, heldGet},
		"HeldMessage/set": {CapHeld, heldSet},
	}
}

// coreEcho implements Core/echo (RFC 8620 §4.1): the arguments come back
// unchanged.
func coreEcho(_ context.Context, c *call) (any, error) {
	return json.RawMessage(c.args), nil
}
