/**
 * Numbers from linux/netfilter/nf_tables.h, nfnetlink.h and netlink.h (uapi, stable ABI) for the
 * messages and expressions the partial-sync encoder writes. Attribute enums count from 0 (UNSPEC).
 */

export const NETLINK_NETFILTER = 12;

// netlink.h
export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_CREATE = 0x400;
export const NLM_F_APPEND = 0x800;
export const NLMSG_ERROR = 0x2;
export const NLMSG_DONE = 0x3;
export const NLA_F_NESTED = 0x8000;

// nfnetlink.h
export const NFNL_SUBSYS_NFTABLES = 10;
export const NFNL_MSG_BATCH_BEGIN = 0x10;
export const NFNL_MSG_BATCH_END = 0x11;
export const NFPROTO_IPV4 = 2;

/** enum nf_tables_msg_types */
export const MSG = {
  NEWTABLE: 0,
  NEWCHAIN: 3,
  DELCHAIN: 5,
  NEWRULE: 6,
  DELRULE: 8,
  NEWSET: 9,
  DELSET: 11,
  NEWSETELEM: 12,
  DELSETELEM: 14,
} as const;

export const TABLE = { NAME: 1, FLAGS: 2 } as const;
export const CHAIN = { TABLE: 1, NAME: 3 } as const;
export const RULE = { TABLE: 1, CHAIN: 2, EXPRESSIONS: 4 } as const;
export const SET = { TABLE: 1, NAME: 2, FLAGS: 3, KEY_TYPE: 4, KEY_LEN: 5, ID: 10, TIMEOUT: 11, USERDATA: 13 } as const;
export const SET_ELEM = { KEY: 1, DATA: 2 } as const;
export const SET_ELEM_LIST = { TABLE: 1, SET: 2, ELEMENTS: 3 } as const;
export const LIST_ELEM = 1;
export const DATA = { VALUE: 1, VERDICT: 2 } as const;
export const VERDICT = { CODE: 1, CHAIN: 2 } as const;
export const EXPR = { NAME: 1, DATA: 2 } as const;

export const IMMEDIATE = { DREG: 1, DATA: 2 } as const;
export const BITWISE = { SREG: 1, DREG: 2, LEN: 3, MASK: 4, XOR: 5, OP: 6 } as const;
export const BITWISE_BOOL = 0;
export const CMP = { SREG: 1, OP: 2, DATA: 3 } as const;
export const LOOKUP = { SET: 1, SREG: 2, DREG: 3, SET_ID: 4, FLAGS: 5 } as const;
export const DYNSET = { SET_NAME: 1, SET_ID: 2, OP: 3, SREG_KEY: 4 } as const;
export const PAYLOAD = { DREG: 1, BASE: 2, OFFSET: 3, LEN: 4 } as const;
export const META = { DREG: 1, KEY: 2, SREG: 3 } as const;
export const CT = { DREG: 1, KEY: 2 } as const;
export const REJECT = { TYPE: 1, ICMP_CODE: 2 } as const;
export const NAT = { TYPE: 1, FAMILY: 2, REG_ADDR_MIN: 3, REG_PROTO_MIN: 5, FLAGS: 7 } as const;
export const MASQ = { FLAGS: 1 } as const;
export const FIB = { DREG: 1, RESULT: 2, FLAGS: 3 } as const;
export const NG = { DREG: 1, MODULUS: 2, TYPE: 3, OFFSET: 4 } as const;

export const REG_VERDICT = 0;
export const REG_1 = 1;
export const REG_2 = 2;
export const CMP_EQ = 0;
export const CMP_NEQ = 1;
export const PAYLOAD_NETWORK_HEADER = 1;
export const META_MARK = 3;
export const META_L4PROTO = 16;
export const CT_STATE = 0;
/** IP_CT_NEW as a ct state bit (NF_CT_STATE_BIT(IP_CT_NEW) = 1 << (2 + 1)). */
export const CT_STATE_NEW = 0x8;
export const FIB_RESULT_ADDRTYPE = 3;
export const FIB_F_SADDR = 0x1;
export const FIB_F_DADDR = 0x2;
/** RTN_LOCAL from rtnetlink.h: `fib ... type local`. */
export const RTN_LOCAL = 2;
export const NG_RANDOM = 1;
export const DYNSET_OP_UPDATE = 1;
export const NAT_DNAT = 1;
/** NF_NAT_RANGE_PROTO_SPECIFIED */
export const NAT_RANGE_PROTO_SPECIFIED = 0x2;
/** NF_NAT_RANGE_PROTO_RANDOM_FULLY */
export const NAT_RANGE_PROTO_RANDOM_FULLY = 0x10;
export const REJECT_ICMP_UNREACH = 0;
export const REJECT_TCP_RST = 1;
/** ICMP_PORT_UNREACH */
export const ICMP_PORT_UNREACH = 3;

export const SET_F_TIMEOUT = 0x10;
export const SET_F_EVAL = 0x20;
/** nft's datatype id for ipv4_addr (NFTA_SET_KEY_TYPE). */
export const NFT_TYPE_IPV4_ADDR = 7;

export const VERDICT_CODE = { accept: 1, drop: 0, jump: -3, goto: -4, return: -5 } as const;

/** NFTNL_UDATA_SET_KEYBYTEORDER = 0, value BYTEORDER_BIG_ENDIAN = 2 (libnftnl/nft set userdata). */
export const UDATA_SET_KEYBYTEORDER = 0;
export const BYTEORDER_BIG_ENDIAN = 2;

export const L4_PROTO_NUMBER = { tcp: 6, udp: 17, sctp: 132 } as const;
