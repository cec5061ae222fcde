// PgBouncer's log: one line per entry, `TIME [ZONE] PID LEVEL message` (1.x before 1.21) or
// `TIME ZONE [PID] LEVEL message` (1.21 on), where a client's or server's line names its
// connection first: `C-0x55d0...: db/user@host:port login attempt: ...`. Read through the
// user-format reader with a built-in format: the database, user and client of the
// connection fill their log_event columns; times without a zone are taken as UTC.
#pragma once

#include <string_view>
#include <vector>

#include "logs/app_format.hpp"

namespace dbautopsy::logs {

const std::vector<UserFormat>& pgbouncer_formats();

// 0 (not PgBouncer's log) or 90, when its first line and at least 8 in 10 of the first lines
// are PgBouncer lines.
int sniff_pgbouncer(std::string_view head);

}  // namespace dbautopsy::logs
