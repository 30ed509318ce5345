package imapmsg

import "freehold/internal/store"

func headerBlock(raw []byte) []byte                                       { return raw }
func parseHeader(b []byte) []byte                                         { return b }
func appendEnvelope(dst []byte, h []byte, o Options) []byte               { return dst }
func appendBodyStructure(dst []byte, p *Part, ext bool, o Options) []byte { return dst }
func extract(raw []byte, s Section) ([]byte, error)                       { return nil, nil }
func extractBinary(raw []byte, part []int) ([]byte, error)                { return nil, nil }
func appendString(dst []byte, s string, utf8OK bool) []byte               { return dst }
func appendSectionName(dst []byte, s Section) []byte                      { return dst }
func parseMessage(raw []byte, depth int) *Part                            { return &Part{} }
func headerGet(h []byte, name string) string                              { return "" }
func partEncoding(p *Part) string                                         { return "" }
func paramGet(ps []Param, name string) string                             { return "" }
func decodeCTE(b []byte, enc string) ([]byte, error)                      { return b, nil }
func partText(p *Part) (string, error)                                    { return "", nil }
func decodeWords(s string) string                                         { return s }
func parseStoreEnvelope(h []byte) store.Envelope                          { return store.Envelope{} }
