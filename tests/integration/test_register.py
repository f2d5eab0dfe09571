"""Registrar: digest-authenticated REGISTER, wrong passwords, Expires."""
import time

from harness import check


def test_register_ok(env):
    phones = [env.phone(login) for login in ("1001", "1002", "1003")]
    for phone in phones:
        codes = phone.sipp.responses("REGISTER")
        check(codes[0] == 401 and codes[-1] == 200 and set(codes) == {401, 200},
              f"{phone.login}: REGISTER responses {codes}, expected a 401 challenge then 200")
        env.wait_row(5, "member.show", phone.login, contacts=1)


def test_register_bad_password(env):
    sipp = env.sipp("register1001", "register_denied.xml", service="1001", args=["-au", "1001", "-ap", "wrong"])
    sipp.expect_success(20)
    codes = sipp.responses("REGISTER")
    check(codes == [401, 403], f"REGISTER responses {codes}, expected a 401 challenge then 403 (README: a wrong "
                               "password gets 403)")
    row = env.ctl.row("member.show", "1001")
    check(row.get("contacts") == "0", f"1001 has contacts after a refused REGISTER: {row}")


def test_register_expiry(env):
    phone = env.phone("1001", expires=2)
    registered = time.monotonic()
    row = env.ctl.row("member.show", "1001")
    check(row.get("contacts") == "1", f"1001 not registered right after a 200: {row}")
    env.wait_row(10, "member.show", "1001", contacts=0)
    lasted = time.monotonic() - registered
    check(lasted >= 1.0, f"the 2 s registration vanished after {lasted:.1f} s")
    check(phone.sipp.running(), "the phone's sipp died")
