"""psycopg2: queries wait on the hub through psycopg2's wait-callback hook
(set when psycopg2 is first imported, unless the program set its own)."""


def patches(psycopg2):
    from theframework import green_psycopg2
    green_psycopg2.install(psycopg2.extensions)
    return {}
