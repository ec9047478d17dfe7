"""The scenario of the end-to-end test: the sessions the client opens, in
order, phase by phase. What each session must produce is recorded in the
Truth by the Client methods it calls.
"""
from e2e_common import BURST, EXTERNAL_DOMAIN, LOCAL_DOMAIN, USERS, log, wait_for
from postfix_instance import RELAY_DOMAIN
from smtp_client import Client, burst, pregreet, session_meets_dead_backend


def scenario(world, truth):
    A, PA = "alice", USERS["alice"]
    B, PB = "bob@e2e.test", USERS["bob@e2e.test"]

    log("phase 1: good logins that send mail")
    for svc in ("submission", "smtps"):
        c = Client(world, truth, svc).ready()
        c.auth_plain(A, PA, good=True)
        c.send_local()
        c.quit()
        c = Client(world, truth, svc).ready()
        c.auth_login(B, PB, good=True)
        c.send_local(sender=B)
        c.quit()
    c = Client(world, truth, "smtp").ready()  # plain inbound mail, no AUTH
    c.send_local(sender="someone@" + EXTERNAL_DOMAIN)
    c.quit()

    log("phase 2: failures one per session")
    for svc in ("submission", "smtps"):
        for user, pw in ((A, "wrong"), ("nobody", "whatever")):
            c = Client(world, truth, svc).ready()
            c.auth_plain(user, pw, good=False)
            c.quit()
            c = Client(world, truth, svc).ready()
            c.auth_login(user, pw, good=False)
            c.quit()
        c = Client(world, truth, svc).ready()
        c.auth_unsupported("CRAM-MD5", "CRAM-MD5")
        c.quit()
        c = Client(world, truth, svc).ready()
        c.auth_unsupported("X-BOGUS-MECH", "other")
        c.quit()
        c = Client(world, truth, svc).ready()
        c.auth_abort("LOGIN")
        c.quit()
        c = Client(world, truth, svc).ready()
        c.hang_up_in_auth()

    c = Client(world, truth, "submission")  # AUTH before STARTTLS
    c.ehlo()
    c.auth_not_available("before STARTTLS (smtpd_tls_auth_only)")
    c.quit()
    c = Client(world, truth, "smtp").ready()  # no SASL on this service
    c.auth_not_available("on a service without SASL")
    c.quit()

    log("phase 3: several attempts in one session")
    c = Client(world, truth, "submission").ready()
    c.auth_plain(A, "wrong-1", good=False)
    c.auth_login(A, "wrong-2", good=False)
    c.auth_plain("nobody", "x", good=False, mech="plain")  # lower-case mechanism
    c.auth_abort("PLAIN")
    c.auth_plain(A, PA, good=True)
    c.auth_not_available("when already authenticated", expect=(503,))
    c.send_local()
    c.quit()
    c = Client(world, truth, "smtps").ready()
    c.auth_login("nobody", "x", good=False)
    c.auth_login(B, PB, good=True)
    c.send_local(sender=B)
    c.quit()

    log("phase 4: unauthenticated relay attempts")
    c = Client(world, truth, "smtp").ready()
    c.relay_attempt(3)
    c.quit()
    c = Client(world, truth, "smtp").ready()
    c.relay_attempt(1)
    c.send_local(sender="someone@" + EXTERNAL_DOMAIN)  # local mail still accepted
    c.quit()
    c = Client(world, truth, "submission").ready()  # TLS, but no AUTH
    c.relay_attempt(2)
    c.quit()

    log("phase 5: postscreen, rejects, relayed and local delivery")
    pregreet(world, truth)
    c = Client(world, truth, "screened").ready()  # PASS NEW after the greeting wait
    c.rcpt_blocked()
    c.send_local(sender="someone@" + EXTERNAL_DOMAIN)
    c.quit()
    world.wait_quiescent()
    c = Client(world, truth, "screened").ready()  # PASS OLD
    c.send_rejected_by_header()
    c.quit()
    world.wait_quiescent()
    sink = ["%s@%s" % (u, RELAY_DOMAIN) for u in ("ok1", "ok2", "defer1", "bounce1")]
    c = Client(world, truth, "submission").ready()
    c.auth_plain(A, PA, good=True)
    c.send(sink)  # one smtp attempt: sent x2, deferred, bounced
    c.send(["ok3@" + RELAY_DOMAIN])
    c.quit()
    c = Client(world, truth, "smtps").ready()
    c.auth_login(B, PB, good=True)
    c.send(["bounce2@" + RELAY_DOMAIN, "postmaster@" + LOCAL_DOMAIN], sender=B)
    c.rcpt_blocked()
    c.quit()
    world.wait_mail_settled(truth)

    log("phase 6: Dovecot auth stopped, then restarted")
    world.wait_quiescent()
    # Only fresh smtpd processes must meet the stopped Dovecot: a reused one
    # still holds its old auth connection and would fail differently.
    for svc in ("submission", "smtps"):
        wait_for(lambda: not world.smtpd_processes(svc),
                 "idle %s smtpd processes to exit (max_idle)" % svc, deadline=30)
    world.stop_dovecot()
    for svc, n in (("submission", 2), ("smtps", 1)):
        for _ in range(n):
            session_meets_dead_backend(world, truth, svc)
            world.wait_quiescent()
    world.start_dovecot()
    c = Client(world, truth, "submission").ready()
    c.auth_plain(A, PA, good=True)
    c.send_local()
    c.quit()

    log("phase 7: bursts of simultaneous sessions")
    for svc, n in BURST.items():
        world.wait_quiescent()
        burst(world, truth, svc, n)
    world.wait_quiescent()
    # anvil reports the busiest client's maximum every anvil_status_update_time
    # and then resets it. The largest burst runs last, so whatever anvil
    # reported during the bursts, its last connection-count report is that
    # burst's size once this line is in the log; nothing connects afterwards.
    top = max(BURST.values())
    assert list(BURST.values())[-1] == top
    truth.anvil_count_max = top
    wait_for(lambda: "max connection count %d for" % top in world.read_log(),
             "anvil to report connection count %d" % top, deadline=30)
