package relay

import (
	"bytes"
	"testing"
)

func TestFramer(t *testing.T) {
	rec := func(typ byte, n int) []byte {
		return append([]byte{typ, 3, 3, byte(n >> 8), byte(n)}, bytes.Repeat([]byte{0xee}, n)...)
	}
	alert13 := rec(recordApplicationData, encryptedAlertLen)
	alert12 := rec(recordAlert, 26)
	appData := rec(recordApplicationData, 22) // a 5-byte message
	tests := []struct {
		name   string
		chunks [][]byte
		want   []bool
	}{
		{"TLS 1.3 close_notify", [][]byte{alert13}, []bool{false}},
		{"TLS 1.2 alert", [][]byte{alert12}, []bool{false}},
		{"two alerts", [][]byte{append(bytes.Clone(alert13), alert12...)}, []bool{false}},
		{"data", [][]byte{appData}, []bool{true}},
		{"data then alert", [][]byte{append(bytes.Clone(appData), alert13...)}, []bool{true}},
		{"split alert", [][]byte{alert13[:3], alert13[3:10], alert13[10:]}, []bool{true, false, false}},
		{"split alert header", [][]byte{alert12[:2], alert12[2:]}, []bool{false, false}},
		{"data split after its header", [][]byte{appData[:5], appData[5:], alert13}, []bool{true, true, false}},
		{"handshake", [][]byte{rec(22, 19)}, []bool{true}},
		{"empty record", [][]byte{rec(recordApplicationData, 0), alert13}, []bool{true, false}},
	}
	for _, tt := range tests {
		var f framer
		for i, c := range tt.chunks {
			if got := f.data(c); got != tt.want[i] {
				t.Errorf("%s: chunk %d: data = %v, want %v", tt.name, i, got, tt.want[i])
			}
		}
	}
}
