%%% @doc hb_store_hbstore on a Redis cluster: three `redis-server' primaries
%%% on 127.0.0.1 started here (each under a shell that kills it when this VM
%%% goes, however it goes), joined with `redis-cli --cluster create'. The
%%% contract's tests of hb_store_hbstore_tests run again with store messages
%%% naming the cluster, then what only a cluster store does: two store
%%% messages (two nodes) on one cluster share their data, `scope' is
%%% `remote', a bad or silent cluster is an answer, not a hang.
-module(hb_store_hbstore_cluster_tests).
-include_lib("eunit/include/eunit.hrl").

-define(M, hb_store_hbstore).
-define(NODES, 3).

cluster_test_() ->
    {setup, fun start_cluster/0, fun stop_cluster/1,
        fun({Address, {_Dir, _Servers, Ports}}) ->
            {inorder, [
                {setup,
                    fun() -> persistent_term:put({hb_store_hbstore_tests, cluster}, Address) end,
                    fun(_) -> persistent_term:erase({hb_store_hbstore_tests, cluster}) end,
                    fun(_) -> hb_store_hbstore_tests:contract_tests() end},
                fun() -> the_contract_tests_wrote_to_the_cluster(Ports) end,
                fun() -> two_nodes_share_one_store(Address) end,
                fun() -> scope_is_remote(Address) end,
                fun() -> writes_can_wait_for_replicas(Address) end
            ]}
        end}.

%% The stores the contract's tests used are namespaces on the cluster (the
%% tests stop their stores without emptying them).
the_contract_tests_wrote_to_the_cluster(Ports) ->
    Keys = lists:append([string:split(os:cmd("redis-cli -p " ++ integer_to_list(P)
        ++ " --scan --pattern '{eunit-*'"), "\n", all) || P <- Ports]),
    ?assert(length([K || K <- Keys, K =/= ""]) > 10).

two_nodes_share_one_store(Address) ->
    Store = <<Address/binary, "/shared">>,
    Node1 = #{<<"store-module">> => ?M, <<"cluster">> => Store, <<"name">> => <<"node-1">>},
    Node2 = #{<<"store-module">> => ?M, <<"cluster">> => Store, <<"name">> => <<"node-2">>},
    {ok, _} = ?M:start(Node1, #{}, #{}),
    {ok, _} = ?M:start(Node2, #{}, #{}),
    ?assertEqual(ok, ?M:write(Node1, #{<<"msg/body">> => <<"from node 1">>}, #{})),
    ?assertEqual(ok, ?M:link(Node2, #{<<"latest">> => <<"msg">>}, #{})),
    ?assertEqual({ok, <<"from node 1">>}, ?M:read(Node2, #{<<"read">> => <<"latest/body">>}, #{})),
    ?assertEqual({composite, [{<<"body">>, <<"from node 1">>}]},
        ?M:read(Node1, #{<<"read">> => <<"latest">>}, #{})),
    ?assertEqual({ok, composite}, ?M:type(Node1, #{<<"type">> => <<"latest">>}, #{})),
    ?assertEqual({ok, <<"msg/body">>}, ?M:resolve(Node2, #{<<"resolve">> => <<"latest/body">>}, #{})),
    ?assertEqual(ok, ?M:reset(Node1, #{}, #{})),
    ?assertEqual({error, not_found}, ?M:read(Node2, #{<<"read">> => <<"msg/body">>}, #{})),
    ok = ?M:stop(Node1, #{}, #{}),
    ok = ?M:stop(Node2, #{}, #{}).

scope_is_remote(Address) ->
    S = #{<<"store-module">> => ?M, <<"cluster">> => Address},
    ?assertEqual(remote, ?M:scope(S)),
    ?assertEqual(local, ?M:scope(#{<<"store-module">> => ?M, <<"name">> => <<"/tmp/x">>})),
    % A bad address is refused with the reason; a silent one fails within
    % its deadline.
    ?assertMatch({failure, {cluster, _}},
        ?M:start(#{<<"store-module">> => ?M, <<"cluster">> => <<"http://127.0.0.1:1">>}, #{}, #{})),
    {ok, Closed} = gen_tcp:listen(0, [{ip, {127, 0, 0, 1}}]),
    {ok, Port} = inet:port(Closed),
    ok = gen_tcp:close(Closed),
    Silent = #{<<"store-module">> => ?M, <<"deadline-ms">> => 500,
        <<"cluster">> => iolist_to_binary(["redis://127.0.0.1:", integer_to_list(Port)])},
    T0 = erlang:monotonic_time(millisecond),
    ?assertMatch({failure, {cluster, _}}, ?M:read(Silent, #{<<"read">> => <<"k">>}, #{})),
    ?assert(erlang:monotonic_time(millisecond) - T0 < 5000).

writes_can_wait_for_replicas(Address) ->
    % This cluster has no replicas: a write that waits for one is written
    % on its primary, and the caller is told it is not replicated.
    S = #{<<"store-module">> => ?M, <<"cluster">> => <<Address/binary, "/waiting">>,
        <<"name">> => <<"waiting">>, <<"replicas">> => 1, <<"deadline-ms">> => 3000},
    ?assertMatch({failure, {cluster, _}}, ?M:write(S, #{<<"k">> => <<"v">>}, #{})),
    ok = ?M:stop(S, #{}, #{}).

%%% The cluster.

start_cluster() ->
    Ports = free_ports(?NODES),
    Dir = string:trim(os:cmd("mktemp -d /tmp/hbstore-cluster-eunit-XXXXXX")),
    Servers = [start_server(Dir, P) || P <- Ports],
    ok = wait(fun() -> lists:all(fun(P) -> answers(P, "PING", "PONG") end, Ports) end, 100),
    Nodes = lists:join(" ", ["127.0.0.1:" ++ integer_to_list(P) || P <- Ports]),
    os:cmd("redis-cli --cluster create " ++ Nodes ++ " --cluster-replicas 0 --cluster-yes"),
    ok = wait(fun() -> lists:all(fun(P) -> answers(P, "CLUSTER INFO", "cluster_state:ok") end, Ports) end, 300),
    Address = iolist_to_binary(["redis://", lists:join(",", ["127.0.0.1:" ++ integer_to_list(P) || P <- Ports])]),
    {Address, {Dir, Servers, Ports}}.

stop_cluster({_Address, {Dir, Servers, _Ports}}) ->
    [port_close(S) || S <- Servers],
    timer:sleep(200),
    os:cmd("rm -rf " ++ Dir).

%% A server under a shell that waits on its standard input, our port: when
%% the port closes (this VM stops, or stop_cluster), the shell kills it.
start_server(Dir, Port) ->
    P = integer_to_list(Port),
    NodeDir = filename:join(Dir, P),
    ok = file:make_dir(NodeDir),
    Script = "redis-server --port " ++ P ++ " --bind 127.0.0.1 --cluster-enabled yes"
        " --cluster-config-file nodes.conf --cluster-node-timeout 1000 --save '' --appendonly no"
        " --dir " ++ NodeDir ++ " --logfile redis.log & pid=$!; read _; kill -9 $pid",
    open_port({spawn_executable, "/bin/sh"}, [{args, ["-c", Script]}, binary, exit_status]).

answers(Port, Command, Expected) ->
    Out = os:cmd("redis-cli -p " ++ integer_to_list(Port) ++ " " ++ Command ++ " 2>/dev/null"),
    string:find(Out, Expected) =/= nomatch.

wait(Ready, 0) ->
    case Ready() of true -> ok; false -> timeout end;
wait(Ready, Tries) ->
    case Ready() of
        true -> ok;
        false -> timer:sleep(100), wait(Ready, Tries - 1)
    end.

%% Ports free for a server and its cluster bus (port + 10000).
free_ports(N) ->
    Base = 40000 + rand:uniform(9000),
    Ports = lists:seq(Base, Base + N - 1),
    case lists:all(fun(P) -> free(P) andalso free(P + 10000) end, Ports) of
        true -> Ports;
        false -> free_ports(N)
    end.

free(Port) ->
    case gen_tcp:listen(Port, [{ip, {127, 0, 0, 1}}]) of
        {ok, S} -> gen_tcp:close(S), true;
        {error, _} -> false
    end.
