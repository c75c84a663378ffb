package bybitsim

import "github.com/gobwas/ws"

func opCode(b byte) ws.OpCode { return ws.OpCode(b) }
