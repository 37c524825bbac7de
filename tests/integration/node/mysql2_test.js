// node mysql2 through odp: `query` (text protocol) and `execute` (server-side prepared statements)
// give the same results as directly against s1. Exit status 0 when equal.
'use strict';
const mysql = require('mysql2/promise');

const host = '127.0.0.1';
const odpPort = Number(process.env.ODP_PORT || 2883);
const directPort = Number(process.env.ODP_DIRECT_PORT || (Number(process.env.ODP_SANDBOX_PORT_BASE || 3400) + 1));
const T = 'node_t';

async function scenario(port) {
  const c = await mysql.createConnection({
    host, port, user: 'app', password: 'app', database: 'test', charset: 'utf8mb4',
    multipleStatements: true, supportBigNumbers: true, bigNumberStrings: true, dateStrings: true,
    connectTimeout: 10000,
  });
  const out = [];
  const strip = (fields) => (fields || []).map((f) => [f.name, f.columnType, f.characterSet, f.decimals]);
  try {
    await c.query(`DROP TABLE IF EXISTS ${T}`);
    await c.query(`CREATE TABLE ${T} (id INT PRIMARY KEY, i BIGINT, d DOUBLE, m DECIMAL(20,4), s VARCHAR(100),
                   b BLOB, dt DATE, ts DATETIME(3), n INT NULL) DEFAULT CHARSET=utf8mb4`);
    // execute: server-side prepared statements with typed parameters
    for (let k = 0; k < 20; k++) {
      const [r] = await c.execute(`INSERT INTO ${T} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [k, String(BigInt(k) * 1000000000000n - 9000000000000000000n), k / 7, `${k}.${k}`, `s ${k} \u{1F600}`,
          Buffer.from([k, 255 - k, 0]), `2020-01-${String(k + 1).padStart(2, '0')}`,
          `2021-06-15 12:00:${String(k).padStart(2, '0')}.123`, k % 3 ? k : null]);
      out.push(['insert', r.affectedRows]);
    }
    let [rows, fields] = await c.query(`SELECT * FROM ${T} ORDER BY id`);
    out.push(['query select', rows, strip(fields)]);
    [rows, fields] = await c.execute(`SELECT * FROM ${T} WHERE id >= ? AND s LIKE ? ORDER BY id`, [5, 's %']);
    out.push(['execute select', rows, strip(fields)]);
    [rows] = await c.execute('SELECT ? AS a, ? AS b, ? AS c, ? AS d', [1, 'x', null, 2.5]);
    out.push(['execute literals', rows]);
    [rows] = await c.query('SELECT 1 AS one; SELECT 2 AS two; SELECT seq FROM seq_1_to_3');
    out.push(['multi', rows]);
    try {
      await c.execute(`INSERT INTO ${T} (id) VALUES (?)`, [1]);
      out.push(['dup', 'no error']);
    } catch (e) {
      out.push(['dup', e.errno, e.sqlState]);
    }
    try {
      await c.query('SELECT * FROM no_such_table_node');
    } catch (e) {
      out.push(['missing', e.errno, e.sqlState]);
    }
    [rows] = await c.query('SELECT seq, REPEAT(\'n\', seq) AS r FROM seq_1_to_2000');
    out.push(['many rows', rows.length, rows[1999]]);
    // the same prepared statement re-executed (statement cache) and after an error
    for (const id of [3, 7, 11]) {
      [rows] = await c.execute(`SELECT id, s FROM ${T} WHERE id = ?`, [id]);
      out.push(['reexec', rows]);
    }
    await c.query(`DROP TABLE ${T}`);
  } finally {
    await c.end();
  }
  return out;
}

// mysql2 asks for CLIENT_SESSION_TRACK: its OK packets carry the records its own
// session_track_* settings ask for, no more (odp turns every tracker on for itself on its server
// connections), and its settings are its own (another client never gets them).
async function tracking(port) {
  const open = () => mysql.createConnection({
    host, port, user: 'app', password: 'app', database: 'test', multipleStatements: true, connectTimeout: 10000,
  });
  const out = [];
  // Records of several variables compare as a set: a server orders them by its own tracker's list.
  const sorted = (ch) => ch && { ...ch, systemVariables: Object.fromEntries(Object.entries(ch.systemVariables).sort()) };
  const seen = (r) => (Array.isArray(r) ? r.map(seen) : r && r.constructor && r.constructor.name === 'ResultSetHeader'
    ? { status: r.serverStatus, changes: sorted(r.stateChanges) || null } : r);
  const others = async () => {
    // Others never get this client's trackers or variables (through odp: the pooled connections).
    const other = await open();
    try {
      const [o] = await other.query('SET @x = 1; SELECT @@sql_mode AS m, @@time_zone AS z, ' +
        '@@character_set_client AS c, @@character_set_results AS r, @@collation_connection AS l, @@autocommit AS a');
      out.push(['other', seen(o)]);
    } finally {
      await other.end();
    }
  };
  // mysql2 logs in with utf8mb4_unicode_ci (224), no character set's default collation: the next
  // client on this connection gets its character set back by name (a server refuses that number
  // for character_set_client). No user variables here: they would have the connection reset.
  const names = await open();
  try {
    for (const sql of ['SET NAMES latin1', 'SET NAMES utf8mb4 COLLATE utf8mb4_bin', 'SET character_set_results = NULL']) {
      const [r] = await names.query(sql);
      out.push([sql, seen(r)]);
      await others();
    }
  } finally {
    await names.end();
  }
  const c = await open();
  try {
    for (const sql of [
      'SET @a = 1', 'SET @a = 1; SET @b = 2', 'USE test', 'SET autocommit = 1', "SET time_zone = '+01:00'",
      'SET autocommit = 0', 'SET autocommit = 0', 'SET @@autocommit = ON',
      'SET session_track_state_change = 1', 'SET autocommit = 0', 'SET @c = 3',
      "SET session_track_system_variables = 'sql_mode'", 'SET SESSION autocommit = ON', 'SET autocommit = 0',
      "SET sql_mode = 'ANSI'", "SET time_zone = '+02:00'", "SET session_track_system_variables = '', sql_mode = DEFAULT",
      'SET autocommit = 1',
      'SELECT @@sql_mode AS m, @@time_zone AS z', 'SET session_track_schema = OFF', 'USE test',
      "SET session_track_system_variables = '*'", 'SET @d = 4', 'SET session_track_state_change = OFF',
      "SET session_track_system_variables = DEFAULT, session_track_schema = DEFAULT", "SET time_zone = '+03:00'",
    ]) {
      const [r] = await c.query(sql);
      out.push([sql, seen(r)]);
      await others();
    }
  } finally {
    await c.end();
  }
  return out;
}

(async () => {
  const direct = JSON.stringify([await scenario(directPort), await tracking(directPort)]);
  const viaOdp = JSON.stringify([await scenario(odpPort), await tracking(odpPort)]);
  if (direct !== viaOdp) {
    let i = 0;
    while (i < direct.length && direct[i] === viaOdp[i]) i++;
    console.error(`results differ at char ${i}:\n  odp:    ${viaOdp.slice(Math.max(0, i - 200), i + 200)}\n` +
      `  direct: ${direct.slice(Math.max(0, i - 200), i + 200)}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  console.log(`results equal (${direct.length} bytes of JSON)`);
  console.log('1 passed, 0 failed');
})().catch((e) => {
  console.error('error:', e);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
