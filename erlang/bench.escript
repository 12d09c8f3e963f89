#!/usr/bin/env escript
%%! +S 2
%%% HyperBEAM's store benchmark workloads, through hb_store_hbstore from
%%% Erlang, each beside the same workload through the LMDB column (the
%%% store a node runs today: hb_store_lmdb's logic, erlang/bench/, over an
%%% LMDB NIF with elmdb's primitives, crates/lmdb-bench-nif, whose library
%%% is the second argument) and beside the same workload called directly
%%% in Rust (the rows of `hbstore-bench`, whose JSON is the first argument),
%%% so that the ratios show what a node gains and what the NIF costs; and
%%% beside RocksDB's own put and get through a NIF (crates/rocksdb-bench-nif,
%%% the third argument), the floor under any store built on RocksDB. Run it
%%% as `./dev bench-erlang`.
-mode(compile).

-define(KEYS, 100000).
-define(READS, 100000).
-define(GROUPS, 10000).
-define(LISTS, 20000).
-define(MESSAGES, 50000).
-define(VALUE, <<"0123456789abcdefghijklmnopqrstuvwxyzABCDEFG">>).

main([RustJson, LmdbNif, RocksdbNif]) ->
    Here = filename:dirname(escript:script_name()),
    true = code:add_patha(filename:join(Here, "_build/default/lib/hbstore/ebin")),
    ok = load_lmdb(Here, LmdbNif),
    ok = load_bench_nif(Here, "rocksdb_bench_nif.erl", RocksdbNif),
    {ok, Json} = file:read_file(RustJson),
    Rust = rust_rows(Json),
    Rows = lists:append([
        keys(Rust), groups(), messages(Rust, false), messages(Rust, true),
        read_processes(Rust), write_processes(), message_processes()
    ]),
    io:format("~nHyperBEAM's store workloads from Erlang (OTP ~s, ~B schedulers): hb_store_hbstore "
        "beside the LMDB column (hb_store_lmdb's logic over LMDB, writes in transactions of 5,000, "
        "no_sync) and beside the same work called in Rust~n~n",
        [erlang:system_info(otp_release), erlang:system_info(schedulers_online)]),
    io:format("| ~-40s | ~11s | ~11s | ~6s | ~11s | ~6s | ~-36s |~n",
        ["workload", "hbstore/s", "LMDB/s", "/lmdb", "Rust/s", "/rust", "targets"]),
    io:format("|~s|~s|~s|~s|~s|~s|~s|~n", [dashes(42), dashes(13), dashes(13), dashes(8),
        dashes(13), dashes(8), dashes(38)]),
    [print(Row) || Row <- Rows],
    scaling(Rows),
    rocksdb_floor(Rows),
    latencies(),
    ok;
main(_) ->
    io:format(standard_error,
        "usage: bench.escript RUST_BENCH_JSON LMDB_BENCH_NIF ROCKSDB_BENCH_NIF~n", []),
    halt(2).

dashes(N) -> lists:duplicate(N, $-).

%% Compiles the LMDB column's modules (erlang/bench/) and loads its NIF.
load_lmdb(Here, Nif) ->
    ok = load_bench_nif(Here, "lmdb_bench_nif.erl", Nif),
    load_bench_module(Here, "lmdb_bench_store.erl").

%% Compiles a NIF's module from erlang/bench/ and loads its library.
load_bench_nif(Here, File, Library) ->
    ok = load_bench_module(Here, File),
    Module = list_to_atom(filename:basename(File, ".erl")),
    Module:load(Library).

load_bench_module(Here, File) ->
    Source = filename:join([Here, "bench", File]),
    {ok, Module, Beam} = compile:file(Source, [binary, report, warnings_as_errors]),
    {module, Module} = code:load_binary(Module, Source, Beam),
    ok.

print({Name, Hbstore, Lmdb, Rust, Targets}) ->
    Ratio = fun(undefined) -> undefined; (Base) -> Hbstore / Base end,
    Ratios = #{lmdb => Ratio(Lmdb), rust => Ratio(Rust)},
    Checks = [case maps:get(Against, Ratios) of
        undefined -> [];
        R -> io_lib:format("~s>=~.1f ~s ", [Against, Min, case R >= Min of true -> "holds"; false -> "MISSED" end])
    end || {Against, Min} <- Targets],
    io:format("| ~-40s | ~11s | ~11s | ~6s | ~11s | ~6s | ~-36s |~n",
        [Name, rate(Hbstore), rate(Lmdb), ratio(Ratio(Lmdb)), rate(Rust), ratio(Ratio(Rust)),
            string:trim(lists:flatten(Checks))]).

rate(undefined) -> "";
rate(R) -> integer_to_list(round(R)).

ratio(undefined) -> "";
ratio(R) -> io_lib:format("~.2f", [R]).

%% How reads and writes grow with the processes calling: 4 processes'
%% rate over 1's, for each store.
scaling(Rows) ->
    Rate = fun(Name, Store) ->
        {_, H, L, _, _} = lists:keyfind(Name, 1, Rows),
        case Store of hbstore -> H; lmdb -> L end
    end,
    io:format("~nFrom 4 processes over 1 (targets: reads >= 1.6, writes >= 1.3 for hbstore):~n~n"),
    [io:format("- ~s: hbstore ~.2f, LMDB ~.2f~n", [What,
        Rate(Four, hbstore) / Rate(One, hbstore), Rate(Four, lmdb) / Rate(One, lmdb)])
        || {What, One, Four} <- [
            {"key reads", "key read, 1 process", "key read, 4 processes"},
            {"key writes", "key write, 1 process", "key write, 4 processes"},
            {"message writes", "flat message write, 1 process", "flat message write, 4 processes"}]],
    ok.

%% RocksDB's own put and get through a NIF, on a database opened with
%% hbstore's options (crates/rocksdb-bench-nif): the floor under any store
%% built on RocksDB, since each of its writes is at least such a put. The
%% same keys and values as the rows above; a target above RocksDB's own
%% ratio cannot be met by checking anything on top of it.
rocksdb_floor(Rows) ->
    {Writes, Reads} = raw_keys(false),
    {BufferedWrites, _} = raw_keys(true),
    [OneWriter, FourWriters] = [raw_writes(N) || N <- [1, 4]],
    Rate = fun(Name) -> {_, H, L, _, _} = lists:keyfind(Name, 1, Rows), {H, L} end,
    io:format("~nRocksDB itself from Erlang, the floor (its own put and get through a NIF, "
        "hbstore's RocksDB options, nothing checked; the same keys and values):~n~n"),
    io:format("| ~-40s | ~11s | ~11s | ~11s | ~6s | ~16s |~n",
        ["workload", "RocksDB/s", "/lmdb", "hbstore/s", "/lmdb", "hbstore/RocksDB"]),
    io:format("|~s|~s|~s|~s|~s|~s|~n", [dashes(42), dashes(13), dashes(13), dashes(13),
        dashes(8), dashes(18)]),
    [begin
        {Hbstore, Lmdb} = Rate(Row),
        io:format("| ~-40s | ~11s | ~11s | ~11s | ~6s | ~16s |~n",
            [Row, rate(Raw), ratio(Raw / Lmdb), rate(Hbstore), ratio(Hbstore / Lmdb),
                ratio(Hbstore / Raw)])
    end || {Row, Raw} <- [{"key write", Writes},
        {"key write (durability buffered)", BufferedWrites}, {"key read", Reads},
        {"key write, 1 process", OneWriter}, {"key write, 4 processes", FourWriters}]],
    {H1, _} = Rate("key write, 1 process"),
    {H4, _} = Rate("key write, 4 processes"),
    io:format("~n- key writes from 4 processes over 1: RocksDB ~.2f, hbstore ~.2f~n",
        [FourWriters / OneWriter, H4 / H1]),
    ok.

%% RocksDB's puts of the key workload's keys, then its gets of random
%% ones: {writes/s, reads/s}.
raw_keys(Buffered) ->
    with_raw(Buffered, fun(Db) ->
        Writes = timed(?KEYS, fun() ->
            [ok = rocksdb_bench_nif:put(Db, key(I), ?VALUE) || I <- lists:seq(1, ?KEYS)],
            ok = rocksdb_bench_nif:flush(Db)
        end),
        Picks = picks(),
        settle(),
        Reads = reads(?READS, fun() ->
            each(fun(K) -> {ok, ?VALUE} = rocksdb_bench_nif:get(Db, K) end, Picks)
        end),
        {Writes, Reads}
    end).

%% RocksDB's puts of new keys from N processes at once, each its own, as
%% in `write_processes/0'.
raw_writes(N) ->
    with_raw(false, fun(Db) ->
        Writes = in_processes(N, ?KEYS, fun(P, Per) ->
            [ok = rocksdb_bench_nif:put(Db, process_key(P, I), ?VALUE) || I <- lists:seq(1, Per)]
        end),
        {ok, ?VALUE} = rocksdb_bench_nif:get(Db, process_key(N, ?KEYS div N)),
        Writes
    end).

%% Fun(Db) on a RocksDB database in a temporary directory, in a process of
%% its own: once it and the processes it started have ended, nothing holds
%% the database's handle, and the database closes (the NIF has no close);
%% its directory goes once it has.
with_raw(Buffered, Fun) ->
    Dir = temp_dir(),
    Parent = self(),
    {Pid, Ref} = spawn_monitor(fun() ->
        {ok, Db} = rocksdb_bench_nif:open(list_to_binary(filename:join(Dir, "rocksdb")), Buffered),
        Parent ! {self(), Fun(Db)}
    end),
    Result = receive
        {Pid, Answer} -> Answer;
        {'DOWN', Ref, process, Pid, Reason} -> error({rocksdb_floor, Reason})
    end,
    receive {'DOWN', Ref, process, Pid, _} -> ok end,
    ok = remove_when_closed(Dir, 100),
    Result.

%% Removes Dir, waiting for a database still closing in it to stop writing
%% there (the handle is released when the VM collects it, not at once).
remove_when_closed(Dir, Tries) ->
    case file:del_dir_r(Dir) of
        ok -> ok;
        {error, _} = Failed when Tries =< 1 -> Failed;
        {error, _} -> timer:sleep(50), remove_when_closed(Dir, Tries - 1)
    end.

%% The figures of `hbstore-bench --json`, by workload name.
rust_rows(Json) ->
    {match, Found} = re:run(Json,
        "\"workload\": \"([^\"]+)\",\\s*\"unit\": \"[^\"]+\",\\s*\"hbstore\": ([0-9.eE+-]+)",
        [global, {capture, all_but_first, binary}]),
    maps:from_list([{Name, binary_to_number(Value)} || [Name, Value] <- Found]).

binary_to_number(B) ->
    try binary_to_float(B) catch error:badarg -> float(binary_to_integer(B)) end.

temp_dir() -> string:trim(os:cmd("mktemp -d /tmp/hbstore-bench-erlang-XXXXXX")).

store() -> store(#{}).
store(Options) ->
    Options#{<<"store-module">> => hb_store_hbstore,
             <<"name">> => list_to_binary(filename:join(temp_dir(), "store"))}.

%% Stops the store and removes its temporary directory.
finish(S) ->
    ok = hb_store_hbstore:stop(S, #{}, #{}),
    ok = file:del_dir_r(filename:dirname(binary_to_list(maps:get(<<"name">>, S)))).

%% An LMDB column store in a temporary directory, and how to remove it
%% (the environment closes when its handle is collected).
lmdb() ->
    Dir = temp_dir(),
    {ok, Db} = lmdb_bench_store:start(Dir),
    {Db, Dir}.

lmdb_finish({_Db, Dir}) ->
    garbage_collect(),
    ok = file:del_dir_r(Dir).

%% Reads are timed once the writes before them have settled: RocksDB
%% flushes what was just written in the background, which on two cores
%% would share them with the reads (the LMDB column, committing in the
%% foreground, has nothing to settle). A node's reads meet the flushes of
%% its own writes now and then, not the whole of a benchmark's burst.
settle() -> timer:sleep(1000).

%% Runs Fun on each element, keeping no results: what is timed is the
%% calls, not building a list of their answers (whose collections cost
%% more than a call).
each(Fun, List) -> lists:foreach(Fun, List).

repeat(0, _Fun) -> ok;
repeat(N, Fun) -> Fun(), repeat(N - 1, Fun).

%% Reads change nothing, so each is timed three times and the median
%% taken: a single pass of 100,000 calls is a tenth of a second, and a
%% collection of the caller's heap or the machine's other work moves it.
reads(N, Fun) ->
    median([timed(N, Fun) || _ <- [1, 2, 3]]).

median(Rates) -> lists:nth(2, lists:sort(Rates)).

timed(N, Fun) ->
    {Micros, _} = timer:tc(Fun),
    N / (Micros / 1.0e6).

key(I) -> <<"key-", (integer_to_binary(I))/binary>>.

%% Process P's key I, when several processes write at once: each its own.
process_key(P, I) -> <<"p", (integer_to_binary(P))/binary, "/", (key(I))/binary>>.

keys(Rust) ->
    {Writes, Reads} = hbstore_keys(store()),
    {BufferedWrites, _} = hbstore_keys(store(#{<<"durability">> => <<"buffered">>})),
    L = {Db, _} = lmdb(),
    LmdbWrites = timed(?KEYS, fun() ->
        [ok = lmdb_bench_store:write(Db, key(I), ?VALUE) || I <- lists:seq(1, ?KEYS)],
        ok = lmdb_bench_store:flush(Db)
    end),
    Picks = picks(),
    settle(),
    LmdbReads = reads(?READS, fun() ->
        each(fun(K) -> {ok, _} = lmdb_bench_store:read(Db, K) end, Picks)
    end),
    lmdb_finish(L),
    [{"key write", Writes, LmdbWrites,
            maps:get(<<"key write (lmdb: txn per write)">>, Rust, undefined), [{lmdb, 0.5}]},
        {"key write (durability buffered)", BufferedWrites, LmdbWrites, undefined, [{lmdb, 1.0}]},
        {"key read", Reads, LmdbReads, maps:get(<<"key read">>, Rust, undefined),
            [{lmdb, 1.0}, {rust, 0.8}]}].

picks() -> [key(rand:uniform(?KEYS)) || _ <- lists:seq(1, ?READS)].

hbstore_keys(S) ->
    {ok, _} = hb_store_hbstore:start(S, #{}, #{}),
    Writes = timed(?KEYS, fun() ->
        [ok = hb_store_hbstore:write(S, #{key(I) => ?VALUE}, #{}) || I <- lists:seq(1, ?KEYS)]
    end),
    Picks = picks(),
    settle(),
    Reads = reads(?READS, fun() ->
        each(fun(K) -> {ok, _} = hb_store_hbstore:read(S, #{<<"read">> => K}, #{}) end, Picks)
    end),
    finish(S),
    {Writes, Reads}.

%% Groups of 10 written (hbstore: one write of the group's 10 paths;
%% LMDB: the group marker and 10 puts, as hb_cache writes through
%% hb_store_lmdb), then listed.
groups() ->
    Ids = [integer_to_binary(I) || I <- lists:seq(1, ?GROUPS)],
    Child = fun(Id, J) -> <<Id/binary, "/key-", (integer_to_binary(J))/binary>> end,
    Picks = [lists:nth(rand:uniform(?GROUPS), Ids) || _ <- lists:seq(1, ?LISTS)],
    S = store(),
    Writes = timed(?GROUPS * 10, fun() ->
        [ok = hb_store_hbstore:write(S, maps:from_list(
            [{Child(Id, J), ?VALUE} || J <- lists:seq(1, 10)]), #{}) || Id <- Ids]
    end),
    settle(),
    Lists = reads(?LISTS, fun() ->
        each(fun(Id) -> {ok, [_ | _]} = hb_store_hbstore:list(S, #{<<"list">> => Id}, #{}) end, Picks)
    end),
    finish(S),
    L = {Db, _} = lmdb(),
    LmdbWrites = timed(?GROUPS * 10, fun() ->
        [begin
            ok = lmdb_bench_store:make_group(Db, Id),
            [ok = lmdb_bench_store:write(Db, Child(Id, J), ?VALUE) || J <- lists:seq(1, 10)]
        end || Id <- Ids],
        ok = lmdb_bench_store:flush(Db)
    end),
    settle(),
    LmdbLists = reads(?LISTS, fun() ->
        each(fun(Id) -> {ok, [_ | _]} = lmdb_bench_store:list(Db, Id) end, Picks)
    end),
    lmdb_finish(L),
    [{"10 writes into a new group (per write)", Writes, LmdbWrites, undefined, []},
        {"list of a 10-child group", Lists, LmdbLists, undefined, [{lmdb, 1.0}]}].

data_path(Value) ->
    <<"data/", (base64url(crypto:hash(sha256, Value)))/binary>>.

%% base64url without padding, HyperBEAM's form of ids (OTP 24 has no
%% options for base64:encode).
base64url(Bytes) ->
    Plain = base64:encode(Bytes),
    NoPad = binary:replace(Plain, <<"=">>, <<>>, [global]),
    << <<(case C of $+ -> $-; $/ -> $_; _ -> C end)>> || <<C>> <= NoPad >>.

%% Messages written as HyperBEAM's cache writes them: the content-addressed
%% values, then a link per field (hbstore: one write and one link request;
%% LMDB: a put per value, a make_link per field); read back whole (hbstore:
%% one read of the message, whose linked fields' values come with it;
%% LMDB: a list, then a read of each field through its link).
messages(Rust, Nested) ->
    Fields = fun(I) ->
        Base = [{<<"process">>, iolist_to_binary(io_lib:format("~32..0B", [I rem 500]))},
            {<<"slot">>, integer_to_binary(I div 50)}],
        case Nested of
            true -> Base ++ [{<<"message/body">>, <<"body of message ", (integer_to_binary(I))/binary>>}];
            false -> Base
        end
    end,
    Ids = [base64url(crypto:strong_rand_bytes(32)) || _ <- lists:seq(1, ?MESSAGES)],
    Indexed = lists:zip(lists:seq(1, ?MESSAGES), Ids),
    Picks = [lists:nth(rand:uniform(?MESSAGES), Ids) || _ <- lists:seq(1, ?MESSAGES)],
    Expected = length(Fields(1)),
    S = store(),
    Writes = timed(?MESSAGES, fun() ->
        [write_message(S, Id, Fields(I)) || {I, Id} <- Indexed]
    end),
    settle(),
    Reads = reads(?MESSAGES, fun() -> each(fun(Id) -> Expected = read_whole(S, Id) end, Picks) end),
    finish(S),
    L = {Db, _} = lmdb(),
    LmdbWrites = timed(?MESSAGES, fun() ->
        [lmdb_write_message(Db, Id, Fields(I)) || {I, Id} <- Indexed],
        ok = lmdb_bench_store:flush(Db)
    end),
    settle(),
    LmdbReads = reads(?MESSAGES, fun() -> each(fun(Id) -> Expected = lmdb_read_whole(Db, Id) end, Picks) end),
    lmdb_finish(L),
    Form = case Nested of true -> "nested"; false -> "flat" end,
    RustWrite = iolist_to_binary([Form, " message write (", integer_to_list(Expected),
                                  " fields) (lmdb: txn per write)"]),
    RustRead = iolist_to_binary([Form, " message read, whole"]),
    [{Form ++ " message write", Writes, LmdbWrites, maps:get(RustWrite, Rust, undefined), []},
        {Form ++ " message read, whole", Reads, LmdbReads, maps:get(RustRead, Rust, undefined),
            [{lmdb, 1.5}]}].

%% A message written as HyperBEAM's cache writes it: one write of its
%% content-addressed values, one link request for its fields.
write_message(S, Id, Fields) ->
    ok = hb_store_hbstore:write(S, maps:from_list([{data_path(V), V} || {_, V} <- Fields]), #{}),
    ok = hb_store_hbstore:link(S, maps:from_list(
        [{<<Id/binary, "/", K/binary>>, data_path(V)} || {K, V} <- Fields]), #{}).

%% The same through hb_store_lmdb's calls: a put per value, a make_link
%% per field.
lmdb_write_message(Db, Id, Fields) ->
    [ok = lmdb_bench_store:write(Db, data_path(V), V) || {_, V} <- Fields],
    [ok = lmdb_bench_store:make_link(Db, data_path(V), <<Id/binary, "/", K/binary>>)
        || {K, V} <- Fields],
    ok.

%% The values of a message: one read of its group, whose linked fields'
%% values come in the same call; a nested group costs one more.
read_whole(S, Path) ->
    {composite, Children} = hb_store_hbstore:read(S, #{<<"read">> => Path}, #{}),
    lists:sum([case C of
        {_Name, _Value} -> 1;
        Name -> read_whole(S, <<Path/binary, "/", Name/binary>>)
    end || C <- Children]).

%% The same through hb_store_lmdb's calls: a list, then a read of each
%% child (a group reads as not_found, and is read whole in turn).
lmdb_read_whole(Db, Path) ->
    {ok, Names} = lmdb_bench_store:list(Db, Path),
    lists:sum([begin
        Child = <<Path/binary, "/", Name/binary>>,
        case lmdb_bench_store:read(Db, Child) of
            {ok, _} -> 1;
            not_found -> lmdb_read_whole(Db, Child)
        end
    end || Name <- Names]).

%% Runs Work(P, Per) in N processes at once, Per operations each, and
%% returns the operations per second of them all.
in_processes(N, Total, Work) ->
    Per = Total div N,
    Parent = self(),
    timed(Per * N, fun() ->
        Pids = [spawn_link(fun() ->
            rand:seed(exsss, {P, 2, 3}),
            Work(P, Per),
            Parent ! {done, self()}
        end) || P <- lists:seq(1, N)],
        [receive {done, Pid} -> ok end || Pid <- Pids]
    end).

%% Random reads from 1, 2, 4 and 8 processes at once, with no process in
%% between them and the store.
read_processes(Rust) ->
    S = store(),
    [ok = hb_store_hbstore:write(S, #{key(I) => ?VALUE}, #{}) || I <- lists:seq(1, ?KEYS)],
    L = {Db, _} = lmdb(),
    [ok = lmdb_bench_store:write(Db, key(I), ?VALUE) || I <- lists:seq(1, ?KEYS)],
    ok = lmdb_bench_store:flush(Db),
    settle(),
    Rows = [begin
        Hbstore = median([in_processes(N, ?READS, fun(_, Per) ->
            repeat(Per, fun() ->
                {ok, _} = hb_store_hbstore:read(S, #{<<"read">> => key(rand:uniform(?KEYS))}, #{})
            end)
        end) || _ <- [1, 2, 3]]),
        Lmdb = median([in_processes(N, ?READS, fun(_, Per) ->
            repeat(Per, fun() -> {ok, _} = lmdb_bench_store:read(Db, key(rand:uniform(?KEYS))) end)
        end) || _ <- [1, 2, 3]]),
        RustName = case N of
            1 -> <<"key read">>;
            _ -> iolist_to_binary(["read, ", integer_to_list(N), " threads"])
        end,
        {lists:flatten(io_lib:format("key read, ~B process~s", [N, plural(N)])), Hbstore, Lmdb,
            maps:get(RustName, Rust, undefined), []}
    end || N <- [1, 2, 4, 8]],
    finish(S),
    lmdb_finish(L),
    Rows.

%% Writes of new keys from 1, 4 and 16 processes at once, each process
%% its own keys.
write_processes() ->
    [begin
        S = store(),
        Hbstore = in_processes(N, ?KEYS, fun(P, Per) ->
            [ok = hb_store_hbstore:write(S, #{process_key(P, I) => ?VALUE}, #{}) || I <- lists:seq(1, Per)]
        end),
        finish(S),
        L = {Db, _} = lmdb(),
        Lmdb = in_processes(N, ?KEYS, fun(P, Per) ->
            [ok = lmdb_bench_store:write(Db, process_key(P, I), ?VALUE) || I <- lists:seq(1, Per)]
        end),
        ok = lmdb_bench_store:flush(Db),
        lmdb_finish(L),
        {lists:flatten(io_lib:format("key write, ~B process~s", [N, plural(N)])), Hbstore, Lmdb,
            undefined, []}
    end || N <- [1, 4, 16]].

%% Messages written from 1 and 4 processes at once, each process its own
%% messages, as HyperBEAM's cache writes them (a request of the values, a
%% request of the links; LMDB: a put per value, a make_link per field).
message_processes() ->
    Fields = fun(P, I) ->
        [{<<"process">>, iolist_to_binary(io_lib:format("~32..0B", [I rem 500]))},
            {<<"slot">>, <<(integer_to_binary(P))/binary, "-", (integer_to_binary(I))/binary>>}]
    end,
    Id = fun(P, I) -> <<"m", (integer_to_binary(P))/binary, "-", (integer_to_binary(I))/binary>> end,
    [begin
        S = store(),
        Hbstore = in_processes(N, ?MESSAGES, fun(P, Per) ->
            [write_message(S, Id(P, I), Fields(P, I)) || I <- lists:seq(1, Per)]
        end),
        finish(S),
        L = {Db, _} = lmdb(),
        Lmdb = in_processes(N, ?MESSAGES, fun(P, Per) ->
            [lmdb_write_message(Db, Id(P, I), Fields(P, I)) || I <- lists:seq(1, Per)]
        end),
        ok = lmdb_bench_store:flush(Db),
        lmdb_finish(L),
        {lists:flatten(io_lib:format("flat message write, ~B process~s", [N, plural(N)])),
            Hbstore, Lmdb, undefined, []}
    end || N <- [1, 4]].

plural(1) -> "";
plural(_) -> "es".

%% What one call costs on a normal scheduler, the evidence for which calls
%% may run there (a NIF should return within about a millisecond): the
%% distribution of each normal-scheduler NIF's own time (answers of `busy',
%% which send the caller to the dirty variant, included), on a quiet store
%% and beside a process applying batches, which hold every writer off for
%% their whole transaction.
latencies() ->
    S = store(),
    N = 100000,
    Name = maps:get(<<"name">>, S),
    [ok = hb_store_hbstore:write(S, #{key(I) => ?VALUE}, #{}) || I <- lists:seq(1, N)],
    [ok = hb_store_hbstore:write(S, maps:from_list([{<<"groups/", (integer_to_binary(G))/binary,
        "/", (integer_to_binary(J))/binary>>, ?VALUE} || J <- lists:seq(1, 10)]), #{})
        || G <- lists:seq(1, ?GROUPS)],
    Quiet = normal_calls(Name, N),
    Writer = spawn_link(fun() -> batch_writer(S, 0) end),
    timer:sleep(100),
    Contended = normal_calls(Name, N),
    unlink(Writer),
    exit(Writer, kill),
    finish(S),
    io:format("~nOne call on a normal scheduler, microseconds (~B calls each; busy: "
        "answered `busy', the caller then uses the dirty variant):~n~n", [N]),
    io:format("| ~-46s | ~7s | ~7s | ~7s | ~8s | ~6s |~n",
        ["call", "median", "p99", "p99.9", "max", "busy"]),
    io:format("|~s|~s|~s|~s|~s|~s|~n", [lists:duplicate(48, $-), lists:duplicate(9, $-),
        lists:duplicate(9, $-), lists:duplicate(9, $-), lists:duplicate(10, $-), lists:duplicate(8, $-)]),
    [begin
        Sorted = lists:sort([Micros || {Micros, _} <- Calls]),
        Busy = length([busy || {_, busy} <- Calls]),
        At = fun(Q) -> lists:nth(max(1, round(Q * length(Sorted))), Sorted) end,
        io:format("| ~-46s | ~7.1f | ~7.1f | ~7.1f | ~8.1f | ~5.1f% |~n",
            [Call ++ When, At(0.5), At(0.99), At(0.999), lists:last(Sorted),
                100 * Busy / length(Calls)])
    end || {When, Rows} <- [{"", Quiet}, {", beside a batch writer", Contended}],
        {Call, Calls} <- Rows],
    ok.

%% Each normal-scheduler NIF, called directly `N' times, with its answer
%% (`busy' or anything else).
normal_calls(Name, N) ->
    Key = fun() -> key(rand:uniform(N)) end,
    Calls = [
        {"read (one key)", fun() -> hbstore_nif:read(Name, Key(), nil) end},
        {"type", fun() -> hbstore_nif:type(Name, Key()) end},
        {"resolve", fun() -> hbstore_nif:resolve(Name, Key()) end},
        {"write (one key, 43 B)", fun() -> hbstore_nif:write(Name, [{Key(), ?VALUE}]) end},
        {"list (a group of 10)", fun() ->
            Group = <<"groups/", (integer_to_binary(rand:uniform(?GROUPS)))/binary>>,
            hbstore_nif:list(Name, Group, nil, all, asc)
        end},
        {"link", fun() -> hbstore_nif:link(Name, [{<<"links/", (Key())/binary>>, Key()}]) end}
    ],
    [{Call, [timed_answer(Fun) || _ <- lists:seq(1, N)]} || {Call, Fun} <- Calls].

timed_answer(Fun) ->
    Start = erlang:monotonic_time(nanosecond),
    Answer = Fun(),
    Micros = (erlang:monotonic_time(nanosecond) - Start) / 1000,
    {Micros, case Answer of busy -> busy; _ -> done end}.

%% Applies batches of 500 writes, one after another, until killed.
batch_writer(S, Round) ->
    Prefix = <<"batches/", (integer_to_binary(Round))/binary, "/">>,
    ok = hb_store_hbstore:write(S, maps:from_list(
        [{<<Prefix/binary, (integer_to_binary(J))/binary>>, ?VALUE} || J <- lists:seq(1, 500)]), #{}),
    batch_writer(S, Round + 1).
