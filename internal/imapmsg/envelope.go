package imapmsg

// Envelope header fields, in the order of the ENVELOPE structure.
const (
	envDate = iota
	envSubject
	envFrom
	envSender
	envReplyTo
	envTo
	envCc
	envBcc
	envInReplyTo
	envMessageID
	envFields
)

// envelopeFields collects the first occurrence of each envelope field in
// one pass over the header.
func envelopeFields(h []byte) (vals [envFields]string, found [envFields]bool) {
	names := [envFields]string{
		"Date", "Subject", "From", "Sender", "Reply-To", "To", "Cc", "Bcc",
		"In-Reply-To", "Message-ID",
	}
	it := fieldIter{h: h}
	for {
		f, ok := it.next()
		if !ok {
			return vals, found
		}
		for i, n := range names {
			if !found[i] && equalFoldASCII(f.Name, n) {
				vals[i], found[i] = unfold(f.Value), true
				break
			}
		}
	}
}

// appendEnvelope appends the ENVELOPE of the message whose header is h
// (RFC 9051 §7.5.2).
func appendEnvelope(dst, h []byte, o Options) []byte {
	v, _ := envelopeFields(h)
	from := parseAddressList(v[envFrom])
	dst = append(dst, '(')
	dst = appendNString(dst, v[envDate], o.UTF8)
	dst = append(dst, ' ')
	dst = appendNString(dst, v[envSubject], o.UTF8)
	for i := envFrom; i <= envBcc; i++ {
		dst = append(dst, ' ')
		list := from
		if i != envFrom {
			list = parseAddressList(v[i])
		}
		// Sender and Reply-To default to From when absent or empty.
		if len(list) == 0 && (i == envSender || i == envReplyTo) {
			list = from
		}
		dst = appendAddressList(dst, list, o)
	}
	dst = append(dst, ' ')
	dst = appendNString(dst, v[envInReplyTo], o.UTF8)
	dst = append(dst, ' ')
	dst = appendNString(dst, v[envMessageID], o.UTF8)
	return append(dst, ')')
}

// appendAddressList appends "(" 1*address ")" or NIL.
func appendAddressList(dst []byte, list []address, o Options) []byte {
	if len(list) == 0 {
		return append(dst, "NIL"...)
	}
	dst = append(dst, '(')
	for _, a := range list {
		dst = append(dst, '(')
		switch a.Kind {
		case addrGroupStart:
			dst = append(dst, "NIL NIL "...)
			dst = appendString(dst, a.Mailbox, o.UTF8)
			dst = append(dst, " NIL"...)
		case addrGroupEnd:
			dst = append(dst, "NIL NIL NIL NIL"...)
		default:
			dst = appendNString(dst, a.Name, o.UTF8)
			dst = append(dst, ' ')
			dst = appendNString(dst, a.Adl, o.UTF8)
			dst = append(dst, ' ')
			dst = appendString(dst, a.Mailbox, o.UTF8)
			dst = append(dst, ' ')
			// A NIL host marks a group; a mailbox without a domain gets
			// an empty one instead.
			dst = appendString(dst, a.Host, o.UTF8)
		}
		dst = append(dst, ')')
	}
	return append(dst, ')')
}
