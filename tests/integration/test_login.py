#!/usr/bin/python3
"""Logins answered as the server would answer them (issue 12): a wrong password, an unknown
database, a database the user may not use, a changed password, a dropped user and a locked account
give the same error code, SQLSTATE and message through odp as directly against a server, with and
without a pooled server connection of the same user present. odp checks passwords against its
cached credential and lets a client in without a server round trip; these cases prove that the
cache never says yes where the server would say no beyond the cluster's refresh_interval_ms. An
expired password is refused at login (1862) where MariaDB would let the client into its password
sandbox (see case_expired_password). One more case covers what such a login's first statement
does on a pooled connection: it goes out behind the replay steps, and a failed step still answers
it in step.

Each case runs against a private odp (one worker, refresh_interval_ms = 1000) and uses its own
user, created on every sandbox server without binary logging so all servers agree at once.

In the sandbox's oceanbase flavour odp checks no password itself: every login is a proxy login the
server (the endpoint) answers. The same cases then prove the server's verdict reaches the client
unchanged, no login is let in from memory, and an expired password leads into the server's own
password sandbox as it does directly. The pipelined-replay case is mysql mode's alone (in oceanbase
mode a login's first statement runs on the connection of its own login)."""

import contextlib
import sys
import time

import pymysql
import pymysql.err

import odplib as L

REFRESH_MS = 1000
# The bound a change must take effect within: the refresh interval and scheduling slack.
EFFECT_S = REFRESH_MS / 1000.0 + 1.5

_raise = pymysql.err.raise_mysql_exception


def _raise_with_state(data):
    """pymysql drops the SQLSTATE of an ERR packet; keep it on the exception."""
    try:
        _raise(data)
    except pymysql.err.MySQLError as e:
        e.sqlstate = data[4:9].decode() if data[3:4] == b"#" else None
        raise


pymysql.err.raise_mysql_exception = _raise_with_state


def attempt(port, user, password, database="test"):
    """("ok",) after a login and SELECT 1, else (code, sqlstate, message)."""
    try:
        with contextlib.closing(L.connect(port=port, user=user, password=password, database=database)) as c:
            with c.cursor() as cur:
                cur.execute("SELECT 1")
                L.check_eq(cur.fetchall(), ((1,),), "SELECT 1")
        return ("ok",)
    except pymysql.err.MySQLError as e:
        return (e.args[0], getattr(e, "sqlstate", None), e.args[1])


def all_servers(sql):
    for i in range(1, len(L.SERVER_PORTS) + 1):
        L.root_sql("SET sql_log_bin = 0; " + sql, server=i)


def create_user(user, password):
    all_servers("DROP USER IF EXISTS '%s'@'127.0.0.1'; CREATE USER '%s'@'127.0.0.1' IDENTIFIED BY '%s'; "
                "GRANT ALL PRIVILEGES ON `test`.* TO '%s'@'127.0.0.1'; "
                "GRANT ALL PRIVILEGES ON `test\\_%%`.* TO '%s'@'127.0.0.1';" % (user, user, password, user, user))


def drop_user(user):
    all_servers("DROP USER IF EXISTS '%s'@'127.0.0.1';" % user)


def same_as_direct(odp, user, password, database, what):
    direct = attempt(L.DIRECT_PORT, user, password, database)
    through = attempt(odp.port, user, password, database)
    L.check_eq(through, direct, what)
    return through


def until_same_as_direct(odp, user, password, database, what):
    """Polls until odp answers as the server does; returns the seconds it took."""
    t0 = time.monotonic()
    direct = attempt(L.DIRECT_PORT, user, password, database)
    last = [None]

    def same():
        last[0] = attempt(odp.port, user, password, database)
        return last[0] == direct

    try:
        L.wait_for(same, EFFECT_S, 0.05, what)
    except AssertionError:
        L.check_eq(last[0], direct, what + " (after %.1fs)" % EFFECT_S)
    return time.monotonic() - t0


@contextlib.contextmanager
def private_odp():
    with L.start_private_odp({"cluster.sandbox": {"refresh_interval_ms": REFRESH_MS}}) as odp:
        yield odp


def local_logins(odp):
    return odp.counter(["client_logins_local_total"])


def check_who_checked(watch, what):
    """mysql mode: odp let the login in from memory; oceanbase mode: the server did."""
    if L.OCEANBASE:
        L.check(watch.delta() == 0, "%s was let in by odp's own check in oceanbase mode" % what)
    else:
        L.check(watch.delta() >= 1, "%s was not let in by odp's own check" % what)


def prepare(odp, user, password, pooled):
    """With `pooled`, a login and statement first leave an idle server connection of the user in
    the pool (and its credential and database in odp's memory)."""
    create_user(user, password)
    if pooled:
        L.check_eq(attempt(odp.port, user, password), ("ok",), "first login")


def wrong_password(odp, user):
    r = same_as_direct(odp, user, "wrong", "test", "wrong password")
    L.check(r[0] == 1045, "refused: %r" % (r,))
    r = same_as_direct(odp, user, "", "test", "no password")
    L.check(r[0] == 1045, "refused: %r" % (r,))
    r = same_as_direct(odp, "it_login_nobody", "x", "test", "unknown user")
    L.check(r[0] == 1045, "refused: %r" % (r,))
    # The right password still works; once a server took the database, from memory (no
    # server before the client's OK).
    L.check_eq(attempt(odp.port, user, "secret"), ("ok",), "right password")
    watch = local_logins(odp)
    L.check_eq(attempt(odp.port, user, "secret"), ("ok",), "right password again")
    check_who_checked(watch, "the login")


def databases(odp, user):
    for _ in range(2):  # the second time with the verdicts of the first in odp's memory
        r = same_as_direct(odp, user, "secret", "test_nothere", "unknown database")
        L.check(r[0] == 1049 and r[1] == "42000", "unknown database: %r" % (r,))
        r = same_as_direct(odp, user, "secret", "nodb_for_you", "database without privilege")
        L.check(r[0] == 1044 and r[1] == "42000", "no privilege: %r" % (r,))
        r = same_as_direct(odp, user, "wrong", "nodb_for_you", "wrong password and database")
        L.check(r[0] == 1045, "the password is checked first: %r" % (r,))
    L.check_eq(attempt(odp.port, user, "secret", None), ("ok",), "no database")
    L.check_eq(attempt(odp.port, user, "secret", "test"), ("ok",), "its database")
    # Once a server took `test` for this user, logins naming it need no server first.
    watch = local_logins(odp)
    L.check_eq(attempt(odp.port, user, "secret", "test"), ("ok",), "its database again")
    check_who_checked(watch, "a login naming a known database")


def changed_password(odp, user):
    L.check_eq(attempt(odp.port, user, "old"), ("ok",), "old password before the change")
    all_servers("ALTER USER '%s'@'127.0.0.1' IDENTIFIED BY 'new';" % user)
    took = until_same_as_direct(odp, user, "new", "test", "the new password")
    print("new password accepted after %.2fs" % took)
    took = until_same_as_direct(odp, user, "old", "test", "the old password refused")
    print("old password refused after %.2fs" % took)
    L.check(attempt(odp.port, user, "old")[0] == 1045, "the old password stays refused")
    L.check_eq(attempt(odp.port, user, "new"), ("ok",), "the new password")


def dropped_user(odp, user):
    L.check_eq(attempt(odp.port, user, "secret"), ("ok",), "before the drop")
    drop_user(user)
    t_drop = time.monotonic()
    took = until_same_as_direct(odp, user, "secret", "test", "a dropped user refused")
    print("dropped user refused after %.2fs" % (time.monotonic() - t_drop))
    L.check(took <= EFFECT_S, "refused within the refresh interval")
    # Never a yes again (a stale cache entry would answer within its lifetime).
    for _ in range(5):
        r = attempt(odp.port, user, "secret")
        L.check(r[0] == 1045, "dropped user stays refused: %r" % (r,))
        time.sleep(0.2)


def locked_account(odp, user):
    all_servers("ALTER USER '%s'@'127.0.0.1' ACCOUNT LOCK;" % user)
    took = until_same_as_direct(odp, user, "secret", "test", "a locked account refused")
    print("locked account refused after %.2fs" % took)
    r = attempt(odp.port, user, "secret")
    L.check(r == (4151, "HY000", "Access denied, this account is locked"), "locked: %r" % (r,))
    # The password is checked first, as the server does.
    r = same_as_direct(odp, user, "wrong", "test", "locked account, wrong password")
    L.check(r[0] == 1045, "wrong password: %r" % (r,))
    # An unlock works at once: a refusal from memory is checked again with the cluster.
    all_servers("ALTER USER '%s'@'127.0.0.1' ACCOUNT UNLOCK;" % user)
    took = until_same_as_direct(odp, user, "secret", "test", "an unlocked account let in")
    print("unlocked account let in after %.2fs" % took)
    L.check(took < REFRESH_MS / 1000.0, "the unlock needed no wait for the refresh interval")


def expired_password(odp, user):
    all_servers("ALTER USER '%s'@'127.0.0.1' PASSWORD EXPIRE;" % user)
    # Directly, MariaDB lets the login into its sandbox: statements fail with 1820 until SET
    # PASSWORD. odp refuses the login (1862, the server's own refusal when it disconnects
    # on expired passwords) so that no pooled connection from before the expiry runs the
    # client's statements.
    L.wait_for(lambda: attempt(L.DIRECT_PORT, user, "secret")[0] == 1820, 5, 0.05, "expired directly")
    if L.OCEANBASE:
        # The server's verdict, relayed: its password sandbox, as directly.
        L.wait_for(lambda: attempt(odp.port, user, "secret")[0] == 1820, EFFECT_S, 0.05,
                   "the server's password sandbox through odp")
        r = same_as_direct(odp, user, "wrong", "test", "expired, wrong password")
        L.check(r[0] == 1045, "wrong password: %r" % (r,))
        return
    expected = (1862, "HY000", "Your password has expired. To log in you must change it using a client "
                "that supports expired passwords")
    last = [None]

    def refused():
        last[0] = attempt(odp.port, user, "secret")
        return last[0] == expected
    try:
        L.wait_for(refused, EFFECT_S, 0.05, "expired password refused")
    except AssertionError:
        L.check_eq(last[0], expected, "expired password refused")
    r = same_as_direct(odp, user, "wrong", "test", "expired, wrong password")
    L.check(r[0] == 1045, "wrong password: %r" % (r,))
    # A new password (set on the server) ends the expiry, like any changed password.
    all_servers("ALTER USER '%s'@'127.0.0.1' IDENTIFIED BY 'renewed';" % user)
    took = until_same_as_direct(odp, user, "renewed", "test", "the renewed password")
    print("renewed password accepted after %.2fs" % took)


def case_pipelined_read_after_failed_replay():
    """The first statement of a login answered from memory goes out behind the replay steps on a
    pooled connection. When a step fails (here COM_INIT_DB of a database dropped meanwhile), its
    ERR answers the statement, the read's own answer is dropped with the connection, and the
    session goes on in step with its client."""
    user = "it_login_pipe"
    with private_odp() as odp:
        create_user(user, "secret")
        all_servers("DROP DATABASE IF EXISTS test_pipe; CREATE DATABASE test_pipe;")
        try:
            a = L.connect(port=odp.port, user=user, password="secret", database="test_pipe")
            with a.cursor() as cur:
                cur.execute("SELECT 1")
            # Another session takes the connection and leaves it in `test`.
            b = L.connect(port=odp.port, user=user, password="secret", database="test")
            with b.cursor() as cur:
                cur.execute("SELECT 2")
            b.close()
            all_servers("DROP DATABASE test_pipe;")
            watch = odp.counter(["session_replays_pipelined_total"])
            failures = odp.counter(["session_replay_failures_total"])
            with a.cursor() as cur:
                try:
                    cur.execute("SELECT 3")
                    raise AssertionError("SELECT 3 in a dropped database was answered: %r" % (cur.fetchall(),))
                except pymysql.err.MySQLError as e:
                    L.check_eq(e.args[0], 1049, "the replay's ERR answers the read")
                L.check(watch.delta() >= 1, "the read went out behind the replay")
                L.check(failures.delta() >= 1, "the replay failed")
                # In step: the next read is answered as its own (the database back first).
                all_servers("CREATE DATABASE test_pipe;")
                cur.execute("SELECT 4")
                L.check_eq(cur.fetchall(), ((4,),), "the session goes on in step")
                cur.execute("SELECT DATABASE()")
                L.check_eq(cur.fetchall(), (("test_pipe",),), "its database")
            a.close()
        finally:
            all_servers("DROP DATABASE IF EXISTS test_pipe;")
            drop_user(user)


# (name, user tag, password the user is created with, body): each runs twice, without and with a
# pooled connection of the user present, against a private odp, with its own user dropped after.
USER_CASES = [
    ("wrong_password", "pw", "secret", wrong_password),
    ("databases", "db", "secret", databases),
    ("changed_password", "chg", "old", changed_password),
    ("dropped_user", "drop", "secret", dropped_user),
    ("locked_account", "lock", "secret", locked_account),
    ("expired_password", "exp", "secret", expired_password),
]


def user_case(tag, password, body, pooled):
    def run():
        user = "it_login_%s%d" % (tag, pooled)
        with private_odp() as odp:
            prepare(odp, user, password, pooled)
            body(odp, user)
        drop_user(user)
    return run


CASES = [] if L.OCEANBASE else [("pipelined_read_after_failed_replay", case_pipelined_read_after_failed_replay)]
for _pooled in (False, True):
    CASES += [(name + ("_pooled" if _pooled else ""), user_case(tag, password, body, _pooled))
              for name, tag, password, body in USER_CASES]

if __name__ == "__main__":
    sys.exit(L.run_cases(CASES))
