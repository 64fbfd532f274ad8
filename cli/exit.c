/* The one mapping from library error codes to tvkit's exit statuses (curl style: a script can
 * tell "fix the command" from "try again later" from "the server said no"). */
#include "cli.h"

int cli_exit_status(int e)
{
    switch (e) {
    case TVK_OK:
        return CLI_EXIT_OK;
    /* the command line itself is wrong */
    case TVK_EINVAL:
    case TVK_EURL:
        return CLI_EXIT_USAGE;
    /* could not reach or keep the server */
    case TVK_EDNS:
    case TVK_ECONNECT:
    case TVK_ETLS:
    case TVK_ETLS_VERIFY:
    case TVK_EHANDSHAKE:
    case TVK_EHTTP_403:
    case TVK_EHTTP_429:
    case TVK_EHTTP:
    case TVK_EACCEPT_KEY:
    case TVK_EHEADER_TOOBIG:
    case TVK_EPROXY:
    case TVK_ECLOSED:
    case TVK_EMSG_TOOBIG:
    case TVK_EWS_PROTOCOL:
    case TVK_EINFLATE:
    case TVK_EIO:
    case TVK_ECONN_LOST:
        return CLI_EXIT_NETWORK;
    /* the server answered, and the answer was no */
    case TVK_ESYMBOL:
    case TVK_EINTERVAL:
    case TVK_EAUTH:
    case TVK_ECRITICAL:
    case TVK_EPROTOCOL:
    case TVK_ESERIES:
    case TVK_ESTUDY:
        return CLI_EXIT_REJECTED;
    /* a deadline passed */
    case TVK_ETIMEDOUT:
    case TVK_EPING_TIMEOUT:
        return CLI_EXIT_TIMEOUT;
    default:
        return CLI_EXIT_OTHER;
    }
}
