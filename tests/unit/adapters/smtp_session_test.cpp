#include "adapters/email/smtp_session.hpp"

#include <gtest/gtest.h>

namespace alertbridge::email {
namespace {

SmtpOptions options() {
    SmtpOptions o;
    o.hostname = "ab.test";
    o.max_message_bytes = 200;
    o.max_recipients = 2;
    o.accept_recipient = [](std::string_view a) { return a.ends_with("@alerts.example"); };
    return o;
}

// Feeds `input` and returns everything the session answered since the greeting.
std::string talk(SmtpSession& s, std::string_view input) {
    s.takeOutput();
    s.feed(input);
    return s.takeOutput();
}

const char* kEnvelope =
    "EHLO smartx.example\r\nMAIL FROM:<smartx@dc.example>\r\nRCPT TO:<ops@alerts.example>\r\n";

TEST(SmtpSession, GreetsAndAdvertises) {
    SmtpSession s(options());
    EXPECT_EQ(s.takeOutput(), "220 ab.test ESMTP alertbridge ready\r\n");
    EXPECT_EQ(talk(s, "EHLO client.example\r\n"),
              "250-ab.test greets client.example\r\n250-PIPELINING\r\n250-SIZE 200\r\n"
              "250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n");
    EXPECT_EQ(talk(s, "HELO client.example\r\n"), "250 ab.test\r\n");
}

TEST(SmtpSession, WholeMessageWithDotUnstuffingAndDurableAck) {
    SmtpSession s(options());
    EXPECT_EQ(talk(s, kEnvelope),
              "250-ab.test greets smartx.example\r\n250-PIPELINING\r\n"
              "250-SIZE 200\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n"
              "250 2.1.0 OK\r\n250 2.1.5 OK\r\n");
    EXPECT_EQ(talk(s, "DATA\r\n"), "354 End data with <CR><LF>.<CR><LF>\r\n");
    EXPECT_EQ(talk(s, "Subject: x\r\n\r\n..leading dot\r\nbare lf line\nend\r\n.\r\n"), "")
        << "no 250 before the message is durable";
    ASSERT_TRUE(s.waitingForStore());
    auto m = s.takeMessage();
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->helo, "smartx.example");
    EXPECT_EQ(m->mail_from, "smartx@dc.example");
    EXPECT_EQ(m->rcpt_to, std::vector<std::string>{"ops@alerts.example"});
    EXPECT_EQ(m->data, "Subject: x\r\n\r\n.leading dot\r\nbare lf line\r\nend\r\n");
    s.messageStored("42", "");
    EXPECT_EQ(s.takeOutput(), "250 2.0.0 OK: queued as 42\r\n");
    EXPECT_EQ(talk(s, "QUIT\r\n"), "221 2.0.0 ab.test closing connection\r\n");
    EXPECT_TRUE(s.closed());
}

TEST(SmtpSession, AFullByteBoundIs452AtDataOrAfterTheMessage) {
    bool room = false;
    auto o = options();
    o.accept_data = [&] { return room; };
    SmtpSession s(o);
    talk(s, "EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<ops@alerts.example>\r\n");
    EXPECT_EQ(talk(s, "DATA\r\n"), "452 4.3.1 Insufficient system storage; try again later\r\n")
        << "refused before the body is sent";
    room = true;
    EXPECT_EQ(talk(s, "DATA\r\n"), "354 End data with <CR><LF>.<CR><LF>\r\n")
        << "the envelope is kept, so the client may try DATA again";
    talk(s, "hi\r\n.\r\n");
    ASSERT_TRUE(s.takeMessage().has_value());
    s.messageStored("", "the intake queue holds its bound", /*full=*/true);
    EXPECT_EQ(s.takeOutput(),
              "452 4.3.1 Insufficient system storage; try again later: the intake queue holds "
              "its bound\r\n");
}

TEST(SmtpSession, StoreFailureIs451AndTheEnvelopeResets) {
    SmtpSession s(options());
    talk(s, std::string(kEnvelope) + "DATA\r\nhi\r\n.\r\n");
    ASSERT_TRUE(s.takeMessage().has_value());
    s.messageStored("", "disk full");
    EXPECT_EQ(s.takeOutput(),
              "451 4.3.0 The message was not stored; try again later: disk full\r\n");
    EXPECT_EQ(talk(s, "DATA\r\n"), "503 5.5.1 Need MAIL and RCPT before DATA\r\n");
}

TEST(SmtpSession, PipelinedCommandsWaitForTheStore) {
    SmtpSession s(options());
    // Everything in one write, a second message queued behind the first.
    std::string all = std::string(kEnvelope) + "DATA\r\none\r\n.\r\n" +
                      "MAIL FROM:<b@dc.example>\r\nRCPT TO:<ops@alerts.example>\r\nDATA\r\n"
                      "two\r\n.\r\nQUIT\r\n";
    talk(s, all);
    auto first = s.takeMessage();
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->data, "one\r\n");
    EXPECT_FALSE(s.takeMessage().has_value()) << "the second waits for the first's ack";
    s.messageStored("1", "");
    EXPECT_EQ(s.takeOutput(),
              "250 2.0.0 OK: queued as 1\r\n250 2.1.0 OK\r\n250 2.1.5 OK\r\n"
              "354 End data with <CR><LF>.<CR><LF>\r\n");
    auto second = s.takeMessage();
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->mail_from, "b@dc.example");
    s.messageStored("2", "");
    EXPECT_EQ(s.takeOutput(),
              "250 2.0.0 OK: queued as 2\r\n221 2.0.0 ab.test closing connection\r\n");
}

TEST(SmtpSession, SmugglingAttemptsStayInsideTheMessage) {
    // Each variant tries to end DATA early and start a second, forged message.
    for (const char* fake_end : {"\n.\n", "\n.\r\n", "\r\n.\n", "\r.\r\n"}) {
        SmtpSession s(options());
        talk(s, std::string(kEnvelope) + "DATA\r\n");
        std::string body = std::string("real") + fake_end +
                           "MAIL FROM:<forged@evil.example>\r\nRCPT TO:<ops@alerts.example>\r\n"
                           "DATA\r\nforged\r\n.\r\n";
        EXPECT_EQ(talk(s, body), "") << "variant " << testing::PrintToString(fake_end);
        auto m = s.takeMessage();
        ASSERT_TRUE(m.has_value());
        EXPECT_NE(m->data.find("forged@evil.example"), std::string::npos)
            << "the forged commands are message content";
        s.messageStored("1", "");
        EXPECT_EQ(s.takeOutput(), "250 2.0.0 OK: queued as 1\r\n");
        EXPECT_FALSE(s.takeMessage().has_value());
    }
}

TEST(SmtpSession, LongLinesAreAccepted) {
    auto o = options();
    o.max_message_bytes = 10000;
    SmtpSession s(o);
    std::string line(3000, 'x');
    talk(s, std::string(kEnvelope) + "DATA\r\n" + line + "\r\n.\r\n");
    auto m = s.takeMessage();
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->data, line + "\r\n");
}

TEST(SmtpSession, OversizeIs552WhetherDeclaredOrNot) {
    SmtpSession s(options());
    talk(s, "EHLO c\r\n");
    EXPECT_EQ(talk(s, "MAIL FROM:<a@b> SIZE=201\r\n"),
              "552 5.3.4 The message exceeds the size limit of 200 bytes\r\n");
    EXPECT_EQ(talk(s, "MAIL FROM:<a@b> SIZE=100 BODY=8BITMIME\r\n"), "250 2.1.0 OK\r\n");
    talk(s, "RCPT TO:<ops@alerts.example>\r\nDATA\r\n");
    std::string big;
    for (int i = 0; i < 20; ++i) big += "0123456789012345678901234567890\r\n";
    EXPECT_EQ(talk(s, big + ".\r\n"),
              "552 5.3.4 The message exceeds the size limit of 200 bytes\r\n");
    EXPECT_FALSE(s.takeMessage().has_value());
    EXPECT_EQ(talk(s, "NOOP\r\n"), "250 2.0.0 OK\r\n") << "the session goes on";
}

TEST(SmtpSession, ErrorsAndSequence) {
    auto o = options();
    o.max_errors = 100;  // this table makes more mistakes than a client may
    SmtpSession s(o);
    struct Step {
        const char* in;
        const char* out;
    };
    for (auto [in, out] : std::initializer_list<Step>{
             {"MAIL FROM:<a@b>\r\n", "503 5.5.1 Send EHLO or HELO first\r\n"},
             {"EHLO\r\n", "501 5.5.4 Syntax: EHLO hostname\r\n"},
             {"HELO c\r\n", "250 ab.test\r\n"},
             {"RCPT TO:<ops@alerts.example>\r\n", "503 5.5.1 Need MAIL before RCPT\r\n"},
             {"MAIL FROM:a@b\r\n", "501 5.5.4 Syntax: MAIL FROM:<address>\r\n"},
             {"MAIL FROM:<a@b> XFOO=1\r\n", "555 5.5.4 Unsupported MAIL parameter XFOO=1\r\n"},
             {"mail from: <>\r\n", "250 2.1.0 OK\r\n"},
             {"MAIL FROM:<a@b>\r\n", "503 5.5.1 Nested MAIL command\r\n"},
             {"RCPT TO:<someone@elsewhere.example>\r\n",
              "550 5.1.1 Recipient not accepted here: <someone@elsewhere.example>\r\n"},
             {"RCPT TO:<>\r\n", "501 5.5.4 Syntax: RCPT TO:<address>\r\n"},
             {"RCPT TO:<a@alerts.example>\r\n", "250 2.1.5 OK\r\n"},
             {"RCPT TO:<b@alerts.example>\r\n", "250 2.1.5 OK\r\n"},
             {"RCPT TO:<c@alerts.example>\r\n", "452 4.5.3 Too many recipients\r\n"},
             {"DATA now\r\n", "501 5.5.4 Syntax: DATA\r\n"},
             {"VRFY root\r\n", "252 2.5.0 Cannot VRFY user, but will accept the message\r\n"},
             {"STARTTLS\r\n", "454 4.7.0 TLS is not available\r\n"},
             {"AUTH PLAIN\r\n", "502 5.5.1 AUTH is not implemented\r\n"},
             {"RSET\r\n", "250 2.0.0 OK\r\n"},
             {"DATA\r\n", "503 5.5.1 Need MAIL and RCPT before DATA\r\n"},
             {"\r\n", "500 5.5.2 Empty command\r\n"},
         }) {
        EXPECT_EQ(talk(s, in), out) << in;
    }
}

TEST(SmtpSession, TooManyErrorsClose) {
    auto o = options();
    o.max_errors = 3;
    SmtpSession s(o);
    EXPECT_EQ(talk(s, "BOGUS\r\nBOGUS\r\nBOGUS\r\nNOOP\r\n"),
              "500 5.5.2 Command not recognized\r\n500 5.5.2 Command not recognized\r\n"
              "500 5.5.2 Command not recognized\r\n"
              "421 4.7.0 Too many errors; closing the connection\r\n");
    EXPECT_TRUE(s.closed());
}

TEST(SmtpSession, EndlessCommandLineIsRefused) {
    auto o = options();
    o.max_command_line = 64;
    SmtpSession s(o);
    EXPECT_EQ(talk(s, std::string(100, 'A')), "500 5.5.2 Line too long\r\n");
    EXPECT_EQ(talk(s, "NOOP\r\n"), "250 2.0.0 OK\r\n");
}

TEST(SmtpSession, ByteAtATime) {
    SmtpSession s(options());
    std::string all = std::string(kEnvelope) + "DATA\r\nSubject: y\r\n\r\nbody\r\n.\r\n";
    s.takeOutput();
    for (char c : all) s.feed(std::string_view(&c, 1));
    auto m = s.takeMessage();
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->data, "Subject: y\r\n\r\nbody\r\n");
}

SmtpOptions tlsOptions(bool require_auth) {
    SmtpOptions o = options();
    o.tls_available = true;
    o.require_auth = require_auth;
    o.authenticate = [](std::string_view u, std::string_view p) {
        return u == "smartx" && p == "pa55";
    };
    return o;
}

TEST(SmtpSession, StartTlsDropsWhatWasPipelinedAndWantsANewGreeting) {
    SmtpSession s(tlsOptions(false));
    EXPECT_EQ(talk(s, "EHLO a.example\r\n"),
              "250-ab.test greets a.example\r\n250-STARTTLS\r\n250-PIPELINING\r\n"
              "250-SIZE 200\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n")
        << "STARTTLS offered; AUTH not before TLS";
    EXPECT_EQ(talk(s, "STARTTLS extra\r\n"), "501 5.5.4 Syntax: STARTTLS\r\n");
    // A command injected behind STARTTLS (the classic plaintext-injection attack).
    EXPECT_EQ(talk(s, "STARTTLS\r\nMAIL FROM:<evil@x>\r\n"), "220 2.0.0 Ready to start TLS\r\n");
    EXPECT_TRUE(s.wantsTls());
    EXPECT_EQ(talk(s, "NOOP\r\n"), "") << "nothing is read until TLS is up";
    s.tlsStarted();
    EXPECT_TRUE(s.tlsActive());
    EXPECT_EQ(s.takeOutput(), "") << "no second banner";
    EXPECT_EQ(talk(s, "MAIL FROM:<a@b>\r\n"), "503 5.5.1 Send EHLO or HELO first\r\n")
        << "the injected MAIL was dropped and the greeting forgotten";
    EXPECT_EQ(talk(s, "EHLO a.example\r\n"),
              "250-ab.test greets a.example\r\n250-AUTH PLAIN LOGIN\r\n250-PIPELINING\r\n"
              "250-SIZE 200\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n");
    EXPECT_EQ(talk(s, "STARTTLS\r\n"), "503 5.5.1 TLS is already active\r\n");
}

TEST(SmtpSession, AuthOnlyOverTlsAndMailNeedsIt) {
    SmtpSession clear(tlsOptions(true));
    talk(clear, "EHLO a.example\r\n");
    EXPECT_EQ(talk(clear, "AUTH PLAIN AHNtYXJ0eABwYTU1\r\n"),
              "538 5.7.11 Encryption required: use STARTTLS before AUTH\r\n");
    EXPECT_EQ(talk(clear, "MAIL FROM:<a@b>\r\n"),
              "530 5.7.0 Must issue a STARTTLS command first\r\n");

    SmtpSession t(tlsOptions(true));
    talk(t, "STARTTLS\r\n");
    t.tlsStarted();
    talk(t, "EHLO a.example\r\n");
    EXPECT_EQ(talk(t, "MAIL FROM:<a@b>\r\n"), "530 5.7.0 Authentication required\r\n");
    // PLAIN with a wrong password, then right (authzid empty, "smartx", "pa55").
    EXPECT_EQ(talk(t, "AUTH PLAIN AHNtYXJ0eAB3cm9uZw==\r\n"),
              "535 5.7.8 Authentication credentials invalid\r\n");
    EXPECT_EQ(talk(t, "AUTH PLAIN not-base64\r\n"),
              "501 5.5.2 Cannot decode the response (base64 expected)\r\n");
    EXPECT_EQ(talk(t, "AUTH CRAM-MD5\r\n"),
              "504 5.5.4 Unrecognized authentication type; use PLAIN or LOGIN\r\n");
    EXPECT_EQ(talk(t, "AUTH PLAIN\r\n"), "334 \r\n");
    EXPECT_EQ(talk(t, "AHNtYXJ0eABwYTU1\r\n"), "235 2.7.0 Authentication successful\r\n");
    EXPECT_EQ(t.authenticatedUser(), "smartx");
    EXPECT_EQ(talk(t, "AUTH PLAIN AHNtYXJ0eABwYTU1\r\n"), "503 5.5.1 Already authenticated\r\n");
    EXPECT_EQ(talk(t, "MAIL FROM:<a@b>\r\n"), "250 2.1.0 OK\r\n");
}

TEST(SmtpSession, AuthLoginDialogueAndCancel) {
    SmtpSession t(tlsOptions(true));
    talk(t, "STARTTLS\r\n");
    t.tlsStarted();
    talk(t, "EHLO a.example\r\n");
    EXPECT_EQ(talk(t, "AUTH LOGIN\r\n"), "334 VXNlcm5hbWU6\r\n");
    EXPECT_EQ(talk(t, "*\r\n"), "501 5.7.0 Authentication cancelled\r\n");
    EXPECT_EQ(talk(t, "AUTH LOGIN c21hcnR4\r\n"), "334 UGFzc3dvcmQ6\r\n");          // smartx
    EXPECT_EQ(talk(t, "cGE1NQ==\r\n"), "235 2.7.0 Authentication successful\r\n");  // pa55
}

TEST(SmtpSession, WithoutTlsOrAuthConfiguredTheyAreRefused) {
    SmtpSession s(options());
    talk(s, "EHLO a.example\r\n");
    EXPECT_EQ(talk(s, "STARTTLS\r\n"), "454 4.7.0 TLS is not available\r\n");
    EXPECT_EQ(talk(s, "AUTH PLAIN AHNtYXJ0eABwYTU1\r\n"), "502 5.5.1 AUTH is not implemented\r\n");
}

}  // namespace
}  // namespace alertbridge::email
