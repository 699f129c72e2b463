from lti_platform.protocol.substitution import substitute


def test_known_variables_are_replaced_and_unknown_pass_through() -> None:
    custom = {
        "uid": "$User.id",
        "unknown": "$Foo.bar",
        "missing": "$Person.email.primary",
        "plain": "text",
        "dollar_in_text": "costs $5",
    }
    variables = {"$User.id": "u-1", "$Person.email.primary": None}
    assert substitute(custom, variables) == {
        "uid": "u-1",
        "unknown": "$Foo.bar",
        "missing": "$Person.email.primary",
        "plain": "text",
        "dollar_in_text": "costs $5",
    }
