%%% The benchmark's LMDB column (erlang/bench/, crates/lmdb-bench-nif)
%%% answers as hb_store_lmdb does, so that its figures stand for a node's
%%% LMDB store. `./dev test' builds its NIF before this suite; the library
%%% is found in the workspace's target directory.
-module(lmdb_bench_store_tests).
-include_lib("eunit/include/eunit.hrl").

-define(S, lmdb_bench_store).

load() ->
    case code:is_loaded(lmdb_bench_nif) of
        {file, _} -> ok;
        false ->
            [begin
                Source = filename:join("bench", File),
                {ok, Module, Beam} = compile:file(Source, [binary, report, warnings_as_errors]),
                {module, Module} = code:load_binary(Module, Source, Beam)
            end || File <- ["lmdb_bench_nif.erl", "lmdb_bench_store.erl"]],
            Target = case os:getenv("CARGO_TARGET_DIR") of
                false -> filename:join("..", "target");
                "" -> filename:join("..", "target");
                Dir -> case filename:pathtype(Dir) of
                    relative -> filename:join("..", Dir);
                    _ -> Dir
                end
            end,
            Library = filename:join([Target, "debug", "liblmdb_bench_nif"]),
            ?assertEqual(ok, lmdb_bench_nif:load(Library),
                "build it first: cargo build -p lmdb-bench-nif --lib")
    end.

db() ->
    load(),
    Dir = string:trim(os:cmd("mktemp -d /tmp/lmdb-bench-test-XXXXXX")),
    {ok, Db} = ?S:start(Dir),
    Db.

reads_what_it_writes_before_and_after_a_commit_test() ->
    Db = db(),
    ok = ?S:write(Db, <<"a/b">>, <<"1">>),
    ?assertEqual({ok, <<"1">>}, ?S:read(Db, <<"a/b">>), "a pending write is read"),
    ok = ?S:flush(Db),
    ?assertEqual({ok, <<"1">>}, ?S:read(Db, <<"a/b">>)),
    ?assertEqual(not_found, ?S:read(Db, <<"a/c">>)),
    ?assertEqual(simple, ?S:type(Db, <<"a/b">>)),
    ?assertEqual(not_found, ?S:type(Db, <<"nothing">>)).

links_groups_and_lists_as_hb_store_lmdb_test() ->
    Db = db(),
    ok = ?S:write(Db, <<"data/h1">>, <<"value">>),
    ok = ?S:make_link(Db, <<"data/h1">>, <<"msg/field">>),
    ok = ?S:make_link(Db, <<"msg">>, <<"alias">>),
    ok = ?S:flush(Db),
    % make_link made the link's parent a group; a group reads as not_found.
    ?assertEqual(composite, ?S:type(Db, <<"msg">>)),
    ?assertEqual(not_found, ?S:read(Db, <<"msg">>)),
    ?assertEqual({ok, <<"value">>}, ?S:read(Db, <<"msg/field">>)),
    ?assertEqual(simple, ?S:type(Db, <<"msg/field">>)),
    % A link among the leading segments is followed.
    ?assertEqual({ok, <<"value">>}, ?S:read(Db, <<"alias/field">>)),
    ?assertEqual({ok, [<<"field">>]}, ?S:list(Db, <<"msg">>)),
    ?assertEqual({ok, [<<"field">>]}, ?S:list(Db, <<"alias">>), "a list follows a link"),
    ?assertEqual({ok, [<<"alias">>, <<"data">>, <<"msg">>]}, ?S:list(Db, <<>>)),
    ?assertEqual({ok, []}, ?S:list(Db, <<"nothing">>)).

a_loop_of_links_ends_test() ->
    Db = db(),
    ok = ?S:make_link(Db, <<"b">>, <<"a">>),
    ok = ?S:make_link(Db, <<"a">>, <<"b">>),
    ?assertEqual(not_found, ?S:read(Db, <<"a">>)),
    ?assertEqual(not_found, ?S:read(Db, <<"a/x">>)).

writes_commit_every_5000_test() ->
    Db = db(),
    [ok = ?S:write(Db, <<"k/", (integer_to_binary(I))/binary>>, <<"v">>) || I <- lists:seq(1, 5001)],
    % A list sees what is committed: the first 5,000, not the one pending.
    {ok, Committed} = ?S:list(Db, <<"k">>),
    ?assertEqual(5000, length(Committed)),
    ok = ?S:flush(Db),
    {ok, All} = ?S:list(Db, <<"k">>),
    ?assertEqual(5001, length(All)).
