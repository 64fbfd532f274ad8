/* tvkit: TradingView real-time chart WebSocket client. One include for the whole public API. */
#ifndef TVKIT_TVKIT_H
#define TVKIT_TVKIT_H

#include "tvkit/error.h"
#include "tvkit/wire.h"
#include "tvkit/net.h"
#include "tvkit/conn.h"
#include "tvkit/ohlcv.h"

#define TVKIT_VERSION "0.1.0"

#endif
