/* SPDX-License-Identifier: BSD-3-Clause */
/* SIP messages shared by the pipeline tests and the benchmark. */
#ifndef SIP_MSGS_H
#define SIP_MSGS_H

/* A softphone's REGISTER with an RFC 8599 push address (~600 bytes). */
#define MSG_REGISTER                                                                    \
	"REGISTER sip:example.com SIP/2.0\r\n"                                          \
	"Via: SIP/2.0/UDP 198.18.0.2:5078;rport;branch=z9hG4bK.Xy7sd2Qp\r\n"            \
	"From: <sip:alice@example.com>;tag=tZz5kw~7m\r\n"                               \
	"To: sip:alice@example.com\r\n"                                                 \
	"CSeq: 20 REGISTER\r\n"                                                         \
	"Call-ID: 8c6XbDq5fK\r\n"                                                       \
	"Max-Forwards: 70\r\n"                                                          \
	"Supported: replaces, outbound, gruu, path\r\n"                                 \
	"Accept: application/sdp, text/plain, application/vnd.gsma.rcs-ft-http+xml\r\n" \
	"Contact: <sip:alice@198.18.0.2:5078;transport=udp;pn-provider=apns;"           \
	"pn-prid=6b1f0a4e2d7c9b3a5e8f1d2c4b6a8e0f1a3c5e7b9d1f3a5c7e9b1d3f5a7c9e1b;"     \
	"pn-param=ABCDE12345.com.example.phone.voip>;+sip.instance=\"<urn:uuid:"        \
	"7e1e4b3c-2c1d-4b5a-9f8e-1a2b3c4d5e6f>\";reg-id=1;expires=3600\r\n"             \
	"Expires: 3600\r\n"                                                             \
	"User-Agent: ExamplePhone/5.2.1 (iPhone15,2; iOS 17.4) belle-sip/5.2\r\n"       \
	"Content-Length: 0\r\n\r\n"

/* An INVITE from the PBX with an SDP offer (~900 bytes). */
#define MSG_INVITE                                                                            \
	"INVITE sip:alice@198.18.0.2:5078;transport=udp;pn-provider=apns;pn-prid=6b1f0a4e2d;" \
	"pn-param=ABCDE12345.com.example.phone.voip SIP/2.0\r\n"                              \
	"Via: SIP/2.0/UDP 198.18.0.5:5060;rport;branch=z9hG4bKPj4d1b2c3e-5f6a-7b8c\r\n"       \
	"Max-Forwards: 70\r\n"                                                                \
	"From: \"Bob Smith\" <sip:1002@pbx.example.com>;tag=a7c3e9f1-42b8\r\n"                \
	"To: <sip:alice@example.com>\r\n"                                                     \
	"Contact: <sip:pbx@198.18.0.5:5060>\r\n"                                              \
	"Call-ID: 3f9a1c7e-8b2d-4e6f-a1c3-5e7f9b1d3a5c\r\n"                                   \
	"CSeq: 31415 INVITE\r\n"                                                              \
	"Allow: OPTIONS, INVITE, ACK, BYE, CANCEL, UPDATE, PRACK, REFER, MESSAGE\r\n"         \
	"Supported: 100rel, timer, replaces, norefersub\r\n"                                  \
	"Session-Expires: 1800\r\n"                                                           \
	"Min-SE: 90\r\n"                                                                      \
	"User-Agent: Asterisk PBX 20.5.0\r\n"                                                 \
	"Content-Type: application/sdp\r\n"                                                   \
	"Content-Length:   351\r\n"                                                           \
	"\r\n"                                                                                \
	"v=0\r\n"                                                                             \
	"o=- 1234567890 1234567890 IN IP4 198.18.0.5\r\n"                                     \
	"s=Asterisk\r\n"                                                                      \
	"c=IN IP4 198.18.0.5\r\n"                                                             \
	"t=0 0\r\n"                                                                           \
	"m=audio 16384 RTP/AVP 9 0 8 111 101\r\n"                                             \
	"a=rtpmap:9 G722/8000\r\n"                                                            \
	"a=rtpmap:0 PCMU/8000\r\n"                                                            \
	"a=rtpmap:8 PCMA/8000\r\n"                                                            \
	"a=rtpmap:111 opus/48000/2\r\n"                                                       \
	"a=fmtp:111 useinbandfec=1\r\n"                                                       \
	"a=rtpmap:101 telephone-event/8000\r\n"                                               \
	"a=fmtp:101 0-16\r\n"                                                                 \
	"a=ptime:20\r\n"                                                                      \
	"a=maxptime:150\r\n"                                                                  \
	"a=sendrecv\r\n"                                                                      \
	"a=rtcp-mux\r\n"

/* sipvicious's OPTIONS probe, as scanners send it (~400 bytes). */
#define MSG_SCANNER                                                                               \
	"OPTIONS sip:100@198.18.0.1 SIP/2.0\r\n"                                                  \
	"Via: SIP/2.0/UDP 198.18.0.66:5060;branch=z9hG4bK-1804289383;rport\r\n"                   \
	"Content-Length: 0\r\n"                                                                   \
	"From: \"sipvicious\"<sip:100@1.1.1.1>; tag=3565653534363130313363340131333432333232\r\n" \
	"Accept: application/sdp\r\n"                                                             \
	"User-Agent: friendly-scanner\r\n"                                                        \
	"To: \"sipvicious\"<sip:100@1.1.1.1>\r\n"                                                 \
	"Contact: sip:100@198.18.0.66:5060\r\n"                                                   \
	"CSeq: 1 OPTIONS\r\n"                                                                     \
	"Call-ID: 1190152918712089164930524\r\n"                                                  \
	"Max-Forwards: 70\r\n\r\n"

/*
 * The app's 200 answering MSG_INVITE as sipwake forwarded it (our Via on top,
 * the PBX's below with rport / received, our Record-Route), with its SDP
 * answer (~850 bytes).
 */
#define MSG_200_SDP                                                                              \
	"SIP/2.0 200 OK\r\n"                                                                     \
	"Via: SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bK-swS3c1d0e6f5a4b2c19\r\n"                \
	"Via: SIP/2.0/UDP 198.18.0.5:5060;rport=5060;branch=z9hG4bKPj4d1b2c3e-5f6a-7b8c;"        \
	"received=198.18.0.5\r\n"                                                                \
	"Record-Route: <sip:198.18.0.1:5060;lr>\r\n"                                             \
	"From: \"Bob Smith\" <sip:1002@pbx.example.com>;tag=a7c3e9f1-42b8\r\n"                   \
	"To: <sip:alice@example.com>;tag=8f3e2a1c\r\n"                                           \
	"Call-ID: 3f9a1c7e-8b2d-4e6f-a1c3-5e7f9b1d3a5c\r\n"                                      \
	"CSeq: 31415 INVITE\r\n"                                                                 \
	"Contact: <sip:alice@198.18.0.2:5078;transport=udp;pn-provider=apns;pn-prid=6b1f0a4e2d;" \
	"pn-param=ABCDE12345.com.example.phone.voip>\r\n"                                        \
	"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, REFER, NOTIFY, MESSAGE\r\n"           \
	"Supported: replaces, outbound\r\n"                                                      \
	"User-Agent: ExamplePhone/5.2.1 (iPhone15,2; iOS 17.4) belle-sip/5.2\r\n"                \
	"Content-Type: application/sdp\r\n"                                                      \
	"Content-Length: 212\r\n"                                                                \
	"\r\n"                                                                                   \
	"v=0\r\n"                                                                                \
	"o=alice 3456 3456 IN IP4 10.0.0.7\r\n"                                                  \
	"s=Talk\r\n"                                                                             \
	"c=IN IP4 10.0.0.7\r\n"                                                                  \
	"t=0 0\r\n"                                                                              \
	"m=audio 7078 RTP/AVP 0 101\r\n"                                                         \
	"a=rtpmap:0 PCMU/8000\r\n"                                                               \
	"a=rtpmap:101 telephone-event/8000\r\n"                                                  \
	"a=fmtp:101 0-16\r\n"                                                                    \
	"a=ptime:20\r\n"                                                                         \
	"a=sendrecv\r\n"                                                                         \
	"a=rtcp-mux\r\n"

/* The PBX hanging up that call: in dialog, through our Record-Route (~500 bytes). */
#define MSG_BYE_PBX                                                                        \
	"BYE sip:alice@198.18.0.2:5078;transport=udp;pn-provider=apns;pn-prid=6b1f0a4e2d;" \
	"pn-param=ABCDE12345.com.example.phone.voip SIP/2.0\r\n"                           \
	"Via: SIP/2.0/UDP 198.18.0.5:5060;rport;branch=z9hG4bKPj77a1c0d2-6e3f\r\n"         \
	"Max-Forwards: 70\r\n"                                                             \
	"Route: <sip:198.18.0.1:5060;lr>\r\n"                                              \
	"From: \"Bob Smith\" <sip:1002@pbx.example.com>;tag=a7c3e9f1-42b8\r\n"             \
	"To: <sip:alice@example.com>;tag=8f3e2a1c\r\n"                                     \
	"Call-ID: 3f9a1c7e-8b2d-4e6f-a1c3-5e7f9b1d3a5c\r\n"                                \
	"CSeq: 31416 BYE\r\n"                                                              \
	"Reason: Q.850;cause=16;text=\"Normal Clearing\"\r\n"                              \
	"User-Agent: Asterisk PBX 20.5.0\r\n"                                              \
	"Content-Length: 0\r\n\r\n"

#endif /* SIP_MSGS_H */
