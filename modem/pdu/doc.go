// Package pdu encodes and decodes SMS transfer protocol data units in the
// PDU mode of 3GPP TS 27.005 (AT+CMGR, AT+CMGL, +CMT and AT+CMGS), with the
// layout of 3GPP TS 23.040 and the alphabets of 3GPP TS 23.038.
//
// The package only works on bytes and hex strings: it never touches a serial
// port. Decode takes what a modem hands over (the SMSC address followed by an
// SMS-DELIVER, SMS-SUBMIT or SMS-STATUS-REPORT TPDU) and EncodeSubmit builds
// the SMS-SUBMIT PDUs to send, split into concatenated parts when one is not
// enough. Reassembly of concatenated messages is left to the caller, which
// gets the Concat information element of every part.
package pdu
