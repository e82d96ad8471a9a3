/**
 * GENERATED from frontend/openapi.json by openapi-typescript: do not edit.
 * Regenerate both files from the backend's code with `scripts/openapi` (from the repository root).
 * The names the UI uses for these shapes are in ./types.ts.
 */

export interface paths {
    "/actuator/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Health
         * @description Overall state: the readiness verdict plus every component and both probe states.
         */
        get: operations["health_actuator_health_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/actuator/health/liveness": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Liveness
         * @description UP whenever the event loop answers: dependencies never fail liveness (restarts would not fix them).
         */
        get: operations["liveness_actuator_health_liveness_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/actuator/health/readiness": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Readiness
         * @description Whether this instance should get traffic: migrated, database answering, Redis if required.
         */
        get: operations["readiness_actuator_health_readiness_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/actuator/prometheus": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Prometheus
         * @description Prometheus text format, summed over every worker process of this server.
         */
        get: operations["prometheus_actuator_prometheus_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/sessions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create Session
         * @description A new anonymous session (201), or the bearer's session renewed (200); rate limited per address.
         */
        post: operations["create_session_api_v1_sessions_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/sessions/current": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Revoke Session
         * @description End the bearer's session everywhere (sign out); sending it again is 204 too.
         */
        delete: operations["revoke_session_api_v1_sessions_current_delete"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/bookings": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create Booking
         * @description Book one seat (`seatId`, the original call), several (`seatIds`, all or nothing), a hold's
         *     seats (`holdToken`), or the best block the server picks (`eventId` with `bestAvailable`; GA
         *     tickets by quantity); exactly one of many concurrent requests for a seat gets 201.
         *     `X-Channel-Key` unlocks a sales channel's seats.
         */
        post: operations["create_booking_api_v1_bookings_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/bookings/{booking_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get Booking
         * @description A booking's record, cancelled or not (the audit trail), to its owner: the session or token that
         *     made it, or the `Manage-Token` of one made without. Anyone else gets 404.
         */
        get: operations["get_booking_api_v1_bookings__booking_id__get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/bookings/{booking_id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Cancel Booking
         * @description The owner cancels: the booking row turns CANCELLED (kept as the audit trail), the seat is free.
         *     Anyone else, whatever `userId` they name, gets 404 and changes nothing.
         */
        post: operations["cancel_booking_api_v1_bookings__booking_id__cancel_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/holds": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create Hold
         * @description Hold seats for a checkout: hand-picked `seatIds` (all or none), or `eventId` with `bestAvailable`
         *     (the server picks the best block, or GA tickets by quantity); the token confirms, extends or
         *     releases them. `X-Channel-Key` unlocks a sales channel's seats.
         */
        post: operations["create_hold_api_v1_holds_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/holds/{token}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get Hold
         * @description The hold and its seats, to its owner (a hold made with a session or token needs that one).
         */
        get: operations["get_hold_api_v1_holds__token__get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/holds/{token}/extend": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Extend Hold
         * @description Push the expiry out by the hold TTL, never past the hold's maximum life.
         */
        post: operations["extend_hold_api_v1_holds__token__extend_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/holds/{token}/release": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Release Hold
         * @description Free the held seats at once.
         */
        post: operations["release_hold_api_v1_holds__token__release_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/bookings": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * My Bookings
         * @description The caller's bookings, newest first, one page at a time.
         */
        get: operations["my_bookings_api_v1_me_bookings_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/holds": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * My Holds
         * @description The caller's holds that still keep seats, soonest to expire first.
         */
        get: operations["my_holds_api_v1_me_holds_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/seats": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List Seats
         * @description The seat inventory plus the layout a client needs to draw it, and a safe resume `sequence`.
         */
        get: operations["list_seats_api_v1_seats_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List Events */
        get: operations["list_events_api_v1_events_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/events/{event_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get Event */
        get: operations["get_event_api_v1_events__event_id__get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/events/{event_id}/seats": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Event Seats
         * @description Same shape as /api/v1/seats (layout, sequence, seats) for one event, plus the event.
         */
        get: operations["event_seats_api_v1_events__event_id__seats_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create Event
         * @description Create an event and its whole seat map from a layout (the CLI's layout file format).
         */
        post: operations["create_event_api_v1_admin_events_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/events/{event_id}/allocations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Allocate
         * @description Block (`blocked`: a reason), assign to a channel (`channel`) or return to public sale (neither)
         *     free seats (`seatIds`, all or none) or `count` free tickets of a GA area (`section`; `from` picks
         *     the pool they come from, public by default).
         */
        post: operations["allocate_api_v1_admin_events__event_id__allocations_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/events/{event_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /**
         * Update Event
         * @description Rename (`name`), reschedule (`startsAt`), move the sales window (`salesStart`, `salesEnd`), turn
         *     the orphan rule on or off (`noOrphans`, `orphanRowEnds`): only the fields sent change. A cancelled
         *     event cannot be edited (`409 EVENT_CANCELLED`); an empty window is `422`.
         */
        patch: operations["update_event_api_v1_admin_events__event_id__patch"];
        trace?: never;
    };
    "/api/v1/admin/events/{event_id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Cancel Event
         * @description Cancel the event with a `reason`, in one transaction: every booking voided (`CANCELLED`, reason
         *     `EVENT_CANCELLED`), every hold released, the seats freed (live maps see each change) and nothing
         *     sold any more. Cancelling a cancelled event is `409 EVENT_CANCELLED`.
         */
        post: operations["cancel_event_api_v1_admin_events__event_id__cancel_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/events/{event_id}/seats": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Admin Seats
         * @description Every seat with its block reason, and the GA areas: for the box office, never for buyers.
         */
        get: operations["admin_seats_api_v1_admin_events__event_id__seats_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/events/{event_id}/waiting-room": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Room
         * @description The room's public state (as this instance last read it, at most a tick old).
         */
        get: operations["room_api_v1_events__event_id__waiting_room_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/events/{event_id}/waiting-room/join": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Join
         * @description Join the queue (201), or find one's place again (200): many tabs of one session share one place.
         */
        post: operations["join_api_v1_events__event_id__waiting_room_join_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/events/{event_id}/waiting-room/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Me
         * @description Where I am; poll again after `Retry-After` seconds (also `pollAfterS`).
         */
        get: operations["me_api_v1_events__event_id__waiting_room_me_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/events/{event_id}/waiting-room/leave": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Leave
         * @description Give my place (or my admission) back: my admission token stops working.
         */
        post: operations["leave_api_v1_events__event_id__waiting_room_leave_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/events/{event_id}/waiting-room": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Admin Room
         * @description The configuration, the live figures and the adaptive rate now in force (404 if never configured).
         */
        get: operations["admin_room_api_v1_admin_events__event_id__waiting_room_get"];
        /**
         * Configure
         * @description Gate (or stop gating) an event's on-sale: start time and limits.
         */
        put: operations["configure_api_v1_admin_events__event_id__waiting_room_put"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/events/{event_id}/waiting-room/revoke": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Revoke
         * @description Revoke one visitor's place or admission (`userId`), or every admission so far (no body).
         */
        post: operations["revoke_api_v1_admin_events__event_id__waiting_room_revoke_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** AdminInventoryOut */
        AdminInventoryOut: {
            event: components["schemas"]["EventOut"];
            /** Seats */
            seats: components["schemas"]["AdminSeatOut"][];
            /** Areas */
            areas: components["schemas"]["AreaOut"][];
        };
        /** AdminSeatOut */
        AdminSeatOut: {
            /** Seatid */
            seatId: number;
            /** Seatnumber */
            seatNumber: string;
            /** Section */
            section: string;
            /** Row */
            row: string;
            /** Rowindex */
            rowIndex: number;
            /** Column */
            column: number;
            /** Status */
            status: string;
            /** Booked */
            booked: boolean;
            /** Bookedat */
            bookedAt: string | null;
            /** Version */
            version: number;
            /** Held */
            held: boolean;
            /** Helduntil */
            heldUntil: string | null;
            /** Eventid */
            eventId: number;
            /** Category */
            category: string | null;
            /** Pricecents */
            priceCents: number | null;
            /** Kind */
            kind: string;
            /** Accessibility */
            accessibility: string | null;
            /** Channel */
            channel: string | null;
            /** Blocked */
            blocked: boolean;
            /** Blockedreason */
            blockedReason: string | null;
        };
        /** AllocationOut */
        AllocationOut: {
            /** Eventid */
            eventId: number;
            /** Changed */
            changed: number;
            /** Seatids */
            seatIds: number[];
        };
        /**
         * AreaOut
         * @description A general-admission area; `available` counts tickets a public buyer can take now.
         */
        AreaOut: {
            /** Name */
            name: string;
            /** Category */
            category: string | null;
            /** Pricecents */
            priceCents: number | null;
            /** Capacity */
            capacity: number;
            /** Available */
            available: number;
        };
        /**
         * BookingOut
         * @description The booked seat, to its buyer only.
         */
        BookingOut: {
            /** Seatid */
            seatId: number;
            /** Seatnumber */
            seatNumber: string;
            /** Section */
            section: string;
            /** Row */
            row: string;
            /** Rowindex */
            rowIndex: number;
            /** Column */
            column: number;
            /** Status */
            status: string;
            /** Booked */
            booked: boolean;
            /** Bookedat */
            bookedAt: string | null;
            /** Version */
            version: number;
            /** Held */
            held: boolean;
            /** Helduntil */
            heldUntil: string | null;
            /** Eventid */
            eventId: number;
            /** Category */
            category: string | null;
            /** Pricecents */
            priceCents: number | null;
            /** Kind */
            kind: string;
            /** Accessibility */
            accessibility: string | null;
            /** Channel */
            channel: string | null;
            /** Blocked */
            blocked: boolean;
            /** Bookingid */
            bookingId: number;
            /** Userid */
            userId: string;
            strategy: components["schemas"]["Strategy"];
            /** Sequence */
            sequence: number;
            /** Managetoken */
            manageToken: string | null;
        };
        /** BookingRecordOut */
        BookingRecordOut: {
            /** Bookingid */
            bookingId: number;
            /** Seatid */
            seatId: number;
            /** Userid */
            userId: string;
            /** Strategy */
            strategy: string;
            /** Status */
            status: string;
            /**
             * Createdat
             * Format: date-time
             */
            createdAt: string;
            /** Holdtoken */
            holdToken: string | null;
            /** Cancelledat */
            cancelledAt: string | null;
            /** Cancelledby */
            cancelledBy: string | null;
            /** Cancelreason */
            cancelReason: string | null;
        };
        /** BookingsOut */
        BookingsOut: {
            /** Userid */
            userId: string;
            /** Holdtoken */
            holdToken: string | null;
            /** Seatids */
            seatIds: number[];
            /** Bookings */
            bookings: components["schemas"]["BookingOut"][];
            /** Sequence */
            sequence: number;
        };
        /** CancellationOut */
        CancellationOut: {
            /** Bookingid */
            bookingId: number;
            /** Status */
            status: string;
            /** Cancelledby */
            cancelledBy: string;
            /**
             * Cancelledat
             * Format: date-time
             */
            cancelledAt: string;
            /** Reason */
            reason: string | null;
            seat: components["schemas"]["SeatOut"];
            /** Sequence */
            sequence: number;
        };
        /** ErrorOut */
        ErrorOut: {
            /**
             * Timestamp
             * Format: date-time
             */
            timestamp: string;
            /** Status */
            status: number;
            /** Error */
            error: string;
            /** Message */
            message: string;
            /** Path */
            path: string;
        };
        /**
         * EventCancellationOut
         * @description What cancelling an event did, in one transaction.
         */
        EventCancellationOut: {
            event: components["schemas"]["EventOut"];
            /** Bookingsvoided */
            bookingsVoided: number;
            /** Holdsreleased */
            holdsReleased: number;
            /** Seatsfreed */
            seatsFreed: number;
            /** Sequence */
            sequence: number;
        };
        /** EventInventoryOut */
        EventInventoryOut: {
            layout: components["schemas"]["LayoutOut"];
            /** Sequence */
            sequence: number;
            /** Seats */
            seats: components["schemas"]["SeatOut"][];
            /** Areas */
            areas: components["schemas"]["AreaOut"][];
            event: components["schemas"]["EventOut"];
        };
        /** EventListOut */
        EventListOut: {
            /** Events */
            events: components["schemas"]["EventOut"][];
        };
        /** EventOut */
        EventOut: {
            /** Eventid */
            eventId: number;
            /** Slug */
            slug: string;
            /** Name */
            name: string;
            /** Venue */
            venue: string;
            /** Startsat */
            startsAt: string | null;
            /**
             * Createdat
             * Format: date-time
             */
            createdAt: string;
            /** Seatcount */
            seatCount: number;
            /** Seatspath */
            seatsPath: string;
            /** Noorphans */
            noOrphans: boolean;
            /** Orphanrowends */
            orphanRowEnds: boolean;
            /** Channels */
            channels: string[];
            /** Status */
            status: string;
            /**
             * Salesstart
             * Format: date-time
             */
            salesStart: string;
            /** Salesend */
            salesEnd: string | null;
            /** Cancelledat */
            cancelledAt: string | null;
            /** Cancelreason */
            cancelReason: string | null;
        };
        /** HTTPValidationError */
        HTTPValidationError: {
            /** Detail */
            detail?: components["schemas"]["ValidationError"][];
        };
        /** HoldOut */
        HoldOut: {
            /**
             * Holdtoken
             * Format: uuid
             */
            holdToken: string;
            /** Userid */
            userId: string;
            /** State */
            state: string;
            /**
             * Expiresat
             * Format: date-time
             */
            expiresAt: string;
            /** Seatids */
            seatIds: number[];
            /** Seats */
            seats: components["schemas"]["SeatOut"][];
            /** Sequence */
            sequence: number;
        };
        /** InventoryOut */
        InventoryOut: {
            layout: components["schemas"]["LayoutOut"];
            /** Sequence */
            sequence: number;
            /** Seats */
            seats: components["schemas"]["SeatOut"][];
            /** Areas */
            areas: components["schemas"]["AreaOut"][];
        };
        /** LayoutOut */
        LayoutOut: {
            /** Sections */
            sections: components["schemas"]["SectionOut"][];
            /** Rows */
            rows: number;
            /** Columns */
            columns: number;
            /** Seatcount */
            seatCount: number;
        };
        /** MyBookingsOut */
        MyBookingsOut: {
            /** Userid */
            userId: string;
            /** Bookings */
            bookings: components["schemas"]["BookingRecordOut"][];
            /** Next */
            next: number | null;
        };
        /** MyHoldsOut */
        MyHoldsOut: {
            /** Userid */
            userId: string;
            /** Holds */
            holds: components["schemas"]["HoldOut"][];
        };
        /** RevokedOut */
        RevokedOut: {
            /** Eventid */
            eventId: number;
            /** Revoked */
            revoked: number;
        };
        /**
         * SeatChangeOut
         * @description One STOMP MESSAGE body: the seat as it is now and its place among the event's changes.
         */
        SeatChangeOut: {
            /** Seatid */
            seatId: number;
            /** Seatnumber */
            seatNumber: string;
            /** Section */
            section: string;
            /** Row */
            row: string;
            /** Rowindex */
            rowIndex: number;
            /** Column */
            column: number;
            /** Status */
            status: string;
            /** Booked */
            booked: boolean;
            /** Bookedat */
            bookedAt: string | null;
            /** Version */
            version: number;
            /** Held */
            held: boolean;
            /** Helduntil */
            heldUntil: string | null;
            /** Eventid */
            eventId: number;
            /** Category */
            category: string | null;
            /** Pricecents */
            priceCents: number | null;
            /** Kind */
            kind: string;
            /** Accessibility */
            accessibility: string | null;
            /** Channel */
            channel: string | null;
            /** Blocked */
            blocked: boolean;
            /** Sequence */
            sequence: number;
            /** Prevsequence */
            prevSequence: number;
            /** Areaavailable */
            areaAvailable: number | null;
        };
        /** SeatOut */
        SeatOut: {
            /** Seatid */
            seatId: number;
            /** Seatnumber */
            seatNumber: string;
            /** Section */
            section: string;
            /** Row */
            row: string;
            /** Rowindex */
            rowIndex: number;
            /** Column */
            column: number;
            /** Status */
            status: string;
            /** Booked */
            booked: boolean;
            /** Bookedat */
            bookedAt: string | null;
            /** Version */
            version: number;
            /** Held */
            held: boolean;
            /** Helduntil */
            heldUntil: string | null;
            /** Eventid */
            eventId: number;
            /** Category */
            category: string | null;
            /** Pricecents */
            priceCents: number | null;
            /** Kind */
            kind: string;
            /** Accessibility */
            accessibility: string | null;
            /** Channel */
            channel: string | null;
            /** Blocked */
            blocked: boolean;
        };
        /** SectionOut */
        SectionOut: {
            /** Name */
            name: string;
            /** Rows */
            rows: string[];
            /** Columns */
            columns: number;
            /** Kind */
            kind: string;
            /** Capacity */
            capacity: number | null;
        };
        /**
         * SeedSeatOut
         * @description A seat in the seed system's shape (`GET /api/v1/seats?shape=array`), state only: its `bookedBy`
         *     is not published. `seatNumber` is the seed's numbering, `A-1` for the seat numbered `A1`.
         */
        SeedSeatOut: {
            /** Seatid */
            seatId: number;
            /** Seatnumber */
            seatNumber: string;
            /** Booked */
            booked: boolean;
            /** Bookedat */
            bookedAt: string | null;
        };
        /** SessionOut */
        SessionOut: {
            /** Token */
            token: string;
            /** Tokentype */
            tokenType: string;
            /** Userid */
            userId: string;
            /**
             * Expiresat
             * Format: date-time
             */
            expiresAt: string;
        };
        /**
         * Strategy
         * @description How concurrent claims on one seat are serialised.
         * @enum {string}
         */
        Strategy: "DB" | "REDIS" | "ATOMIC";
        /** ValidationError */
        ValidationError: {
            /** Location */
            loc: (string | number)[];
            /** Message */
            msg: string;
            /** Error Type */
            type: string;
            /** Input */
            input?: unknown;
            /** Context */
            ctx?: Record<string, never>;
        };
        /**
         * VisitorOut
         * @description Where a visitor stands in an event's waiting room; poll again after `pollAfterS`.
         */
        VisitorOut: {
            /** Eventid */
            eventId: number;
            /** State */
            state: string;
            /** Position */
            position: number | null;
            /** Peopleahead */
            peopleAhead: number | null;
            /** Estimatedwaits */
            estimatedWaitS: number | null;
            /** Startsat */
            startsAt: string | null;
            /** Joinedat */
            joinedAt: string | null;
            /** Admissiontoken */
            admissionToken: string | null;
            /** Admitteduntil */
            admittedUntil: string | null;
            /** Pollafters */
            pollAfterS: number;
        };
        /**
         * WaitingRoomAdminOut
         * @description The operator's view: the configuration and the live figures.
         */
        WaitingRoomAdminOut: {
            /** Eventid */
            eventId: number;
            /** Enabled */
            enabled: boolean;
            /** Startsat */
            startsAt: string | null;
            /** Open */
            open: boolean;
            /** Waiting */
            waiting: number;
            /** Active */
            active: number;
            /** Admissionrateperminute */
            admissionRatePerMinute: number;
            /** Maxactive */
            maxActive: number;
            /** Perminute */
            perMinute: number;
            /** Minperminute */
            minPerMinute: number;
            /** Adaptive */
            adaptive: boolean;
            /** Holds */
            holdS: number;
            /** Admissionttls */
            admissionTtlS: number;
            /** Admittedtotal */
            admittedTotal: number;
            /** Revokedbefore */
            revokedBefore: string | null;
        };
        /**
         * WaitingRoomOut
         * @description The public state of an event's waiting room.
         */
        WaitingRoomOut: {
            /** Eventid */
            eventId: number;
            /** Enabled */
            enabled: boolean;
            /** Startsat */
            startsAt: string | null;
            /** Open */
            open: boolean;
            /** Waiting */
            waiting: number;
            /** Active */
            active: number;
            /** Admissionrateperminute */
            admissionRatePerMinute: number;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    health_actuator_health_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description UP */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                };
            };
            /** @description DOWN */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    liveness_actuator_health_liveness_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description UP */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                };
            };
            /** @description DOWN */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    readiness_actuator_health_readiness_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description UP */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                };
            };
            /** @description DOWN */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    prometheus_actuator_prometheus_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    create_session_api_v1_sessions_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": Record<string, never>;
            };
        };
        responses: {
            /** @description The session sent as bearer, renewed */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SessionOut"];
                };
            };
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SessionOut"];
                };
            };
            /** @description MALFORMED_JSON: The body is missing, not JSON, or not a JSON object */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description UNAUTHENTICATED: A valid bearer token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description SESSIONS_DISABLED: Anonymous sessions are off in jwt auth mode */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description PAYLOAD_TOO_LARGE: The body exceeds the size limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description UNSUPPORTED_MEDIA_TYPE: The body must be application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description VALIDATION_FAILED: A field is invalid (the message names it) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description RATE_LIMITED: Too many requests; see Retry-After */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
        };
    };
    revoke_session_api_v1_sessions_current_delete: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The session is revoked: none of its tokens (renewals included) is accepted again */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description UNAUTHENTICATED: A valid bearer token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description SESSIONS_DISABLED: Anonymous sessions are off in jwt auth mode */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description RATE_LIMITED: Too many requests; see Retry-After */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: A dependency is unavailable; see Retry-After */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
        };
    };
    create_booking_api_v1_bookings_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** Seatid */
                    seatId?: number | null;
                    /** Seatids */
                    seatIds?: number[] | null;
                    /** Holdtoken */
                    holdToken?: string | null;
                    /** Eventid */
                    eventId?: number | null;
                    bestAvailable?: {
                        /** Quantity */
                        quantity: number;
                        /** Category */
                        category?: string | null;
                        /** Section */
                        section?: string | null;
                        /**
                         * Together
                         * @default true
                         */
                        together?: boolean;
                        /**
                         * Accessible
                         * @description How many wheelchair spaces
                         * @default 0
                         */
                        accessible?: number;
                    } | null;
                    /**
                     * Accessible
                     * @description Hand-picked wheelchair/companion seats on purpose
                     * @default false
                     */
                    accessible?: boolean;
                    /** Userid */
                    userId?: string | null;
                    /** @description Locking strategy; the deployment default when omitted. */
                    strategy?: ("DB" | "REDIS" | "ATOMIC") | "DATABASE" | null;
                } | {
                    seatId: unknown;
                    seatIds?: null;
                    holdToken?: null;
                    eventId?: null;
                    bestAvailable?: null;
                } | {
                    seatIds: unknown;
                    seatId?: null;
                    eventId?: null;
                    bestAvailable?: null;
                } | {
                    holdToken: unknown;
                    seatId?: null;
                    eventId?: null;
                    bestAvailable?: null;
                } | {
                    eventId: unknown;
                    bestAvailable: unknown;
                    seatId?: null;
                    seatIds?: null;
                    holdToken?: null;
                };
            };
        };
        responses: {
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["BookingOut"] | components["schemas"]["BookingsOut"];
                };
            };
            /** @description MALFORMED_JSON: The body is missing, not JSON, or not a JSON object */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description UNAUTHENTICATED: A valid bearer token is required; ADMISSION_REQUIRED: The event is gated: join its waiting room, send Admission-Token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description USER_MISMATCH: userId differs from the authenticated user; CHANNEL_KEY_REQUIRED: Seats of a sales channel need its X-Channel-Key (seatIds), or the key is unknown; ADMISSION_INVALID: The admission token is forged, malformed or another session's; ADMISSION_EXPIRED: The admission token has expired; join the waiting room again; ADMISSION_WRONG_EVENT: The admission token admits to another event; ADMISSION_REVOKED: The admission was revoked (by an operator, or the visitor left) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description SEAT_NOT_FOUND: Unknown seat; SEATS_NOT_FOUND: Some of the seats do not exist (seatIds); HOLD_NOT_FOUND: Unknown hold, or not yours; EVENT_NOT_FOUND: Unknown event */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description SEAT_OCCUPIED: The seat is booked or held by someone else; SEATS_TAKEN: Some seats are booked or held; nothing was changed (seatIds); HOLD_EXPIRED: The hold lapsed; nothing was changed (seatIds); HOLD_NOT_ACTIVE: The hold was already confirmed or released; SEAT_LIMIT_EXCEEDED: The per-user seat cap for the event is reached; SALES_NOT_OPEN: The event's sales window has not opened; nothing was changed (salesStart); SALES_CLOSED: The event's sales window has closed; nothing was changed (salesEnd); EVENT_CANCELLED: The event was cancelled; nothing sells (cancelledAt, reason); NO_BLOCK_AVAILABLE: No block of seats (or not enough GA tickets) matches the request; nothing was changed; ORPHAN_SEAT: The request would leave a single empty seat (seatIds names it); SEATS_BLOCKED: Some seats are not for sale (seatIds); ACCESSIBLE_SEAT: Wheelchair/companion seats need "accessible": true (seatIds) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description PAYLOAD_TOO_LARGE: The body exceeds the size limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description UNSUPPORTED_MEDIA_TYPE: The body must be application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description VALIDATION_FAILED: A field is invalid (the message names it); IDEMPOTENCY_KEY_REUSED: The Idempotency-Key came with another request */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description RATE_LIMITED: Too many requests; see Retry-After; IDEMPOTENCY_KEY_LIMIT: Too many live Idempotency-Keys; see Retry-After */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description DATABASE_BUSY: Lock wait, timeout, conflict or pool exhausted; nothing was changed; see Retry-After; DATABASE_UNAVAILABLE: The database is unreachable; nothing was changed; see Retry-After; OUTCOME_UNKNOWN: The change reached the database but its answer was lost: it may have been committed. Retry with the same Idempotency-Key (the first answer is replayed) or read the seat or booking; see Retry-After; REDIS_UNAVAILABLE: Redis is unreachable (REDIS strategy); see Retry-After; WAITING_ROOM_UNAVAILABLE: The waiting room's store cannot answer; nobody is let in; see Retry-After */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
        };
    };
    get_booking_api_v1_bookings__booking_id__get: {
        parameters: {
            query?: never;
            header?: {
                /** @description The `manageToken` of a booking made without a session or token. */
                "Manage-Token"?: string | null;
            };
            path: {
                booking_id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["BookingRecordOut"];
                };
            };
            /** @description UNAUTHENTICATED: A valid bearer token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description BOOKING_NOT_FOUND: Unknown booking, or not yours */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    cancel_booking_api_v1_bookings__booking_id__cancel_post: {
        parameters: {
            query?: never;
            header?: {
                /** @description The `manageToken` of a booking made without a session or token. */
                "Manage-Token"?: string | null;
            };
            path: {
                booking_id: number;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": {
                    /** Userid */
                    userId?: string | null;
                    /** Reason */
                    reason?: string | null;
                };
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CancellationOut"];
                };
            };
            /** @description MALFORMED_JSON: The body is missing, not JSON, or not a JSON object */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description UNAUTHENTICATED: A valid bearer token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description USER_MISMATCH: userId differs from the authenticated user */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description BOOKING_NOT_FOUND: Unknown booking, or not yours */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description BOOKING_NOT_ACTIVE: The booking is already cancelled */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description PAYLOAD_TOO_LARGE: The body exceeds the size limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description UNSUPPORTED_MEDIA_TYPE: The body must be application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description VALIDATION_FAILED: A field is invalid (the message names it); IDEMPOTENCY_KEY_REUSED: The Idempotency-Key came with another request */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description RATE_LIMITED: Too many requests; see Retry-After; IDEMPOTENCY_KEY_LIMIT: Too many live Idempotency-Keys; see Retry-After */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description DATABASE_BUSY: Lock wait, timeout, conflict or pool exhausted; nothing was changed; see Retry-After; DATABASE_UNAVAILABLE: The database is unreachable; nothing was changed; see Retry-After; OUTCOME_UNKNOWN: The change reached the database but its answer was lost: it may have been committed. Retry with the same Idempotency-Key (the first answer is replayed) or read the seat or booking; see Retry-After; REDIS_UNAVAILABLE: Redis is unreachable (REDIS strategy); see Retry-After */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
        };
    };
    create_hold_api_v1_holds_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** Seatids */
                    seatIds?: number[] | null;
                    /** Eventid */
                    eventId?: number | null;
                    bestAvailable?: {
                        /** Quantity */
                        quantity: number;
                        /** Category */
                        category?: string | null;
                        /** Section */
                        section?: string | null;
                        /**
                         * Together
                         * @default true
                         */
                        together?: boolean;
                        /**
                         * Accessible
                         * @description How many wheelchair spaces
                         * @default 0
                         */
                        accessible?: number;
                    } | null;
                    /**
                     * Accessible
                     * @description Hand-picked wheelchair/companion seats on purpose
                     * @default false
                     */
                    accessible?: boolean;
                    /** Userid */
                    userId?: string | null;
                    strategy?: ("DB" | "REDIS" | "ATOMIC") | "DATABASE" | null;
                } | {
                    seatIds: unknown;
                    eventId?: null;
                    bestAvailable?: null;
                } | {
                    eventId: unknown;
                    bestAvailable: unknown;
                    seatIds?: null;
                };
            };
        };
        responses: {
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HoldOut"];
                };
            };
            /** @description MALFORMED_JSON: The body is missing, not JSON, or not a JSON object */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description UNAUTHENTICATED: A valid bearer token is required; ADMISSION_REQUIRED: The event is gated: join its waiting room, send Admission-Token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description USER_MISMATCH: userId differs from the authenticated user; CHANNEL_KEY_REQUIRED: Seats of a sales channel need its X-Channel-Key (seatIds), or the key is unknown; ADMISSION_INVALID: The admission token is forged, malformed or another session's; ADMISSION_EXPIRED: The admission token has expired; join the waiting room again; ADMISSION_WRONG_EVENT: The admission token admits to another event; ADMISSION_REVOKED: The admission was revoked (by an operator, or the visitor left) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description SEATS_NOT_FOUND: Some of the seats do not exist (seatIds); EVENT_NOT_FOUND: Unknown event */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description SEATS_TAKEN: Some seats are booked or held; nothing was changed (seatIds); SEAT_LIMIT_EXCEEDED: The per-user seat cap for the event is reached; SALES_NOT_OPEN: The event's sales window has not opened; nothing was changed (salesStart); SALES_CLOSED: The event's sales window has closed; nothing was changed (salesEnd); EVENT_CANCELLED: The event was cancelled; nothing sells (cancelledAt, reason); NO_BLOCK_AVAILABLE: No block of seats (or not enough GA tickets) matches the request; nothing was changed; ORPHAN_SEAT: The request would leave a single empty seat (seatIds names it); SEATS_BLOCKED: Some seats are not for sale (seatIds); ACCESSIBLE_SEAT: Wheelchair/companion seats need "accessible": true (seatIds) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description PAYLOAD_TOO_LARGE: The body exceeds the size limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description UNSUPPORTED_MEDIA_TYPE: The body must be application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description VALIDATION_FAILED: A field is invalid (the message names it); IDEMPOTENCY_KEY_REUSED: The Idempotency-Key came with another request */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description RATE_LIMITED: Too many requests; see Retry-After; IDEMPOTENCY_KEY_LIMIT: Too many live Idempotency-Keys; see Retry-After */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description DATABASE_BUSY: Lock wait, timeout, conflict or pool exhausted; nothing was changed; see Retry-After; DATABASE_UNAVAILABLE: The database is unreachable; nothing was changed; see Retry-After; OUTCOME_UNKNOWN: The change reached the database but its answer was lost: it may have been committed. Retry with the same Idempotency-Key (the first answer is replayed) or read the seat or booking; see Retry-After; REDIS_UNAVAILABLE: Redis is unreachable (REDIS strategy); see Retry-After; WAITING_ROOM_UNAVAILABLE: The waiting room's store cannot answer; nobody is let in; see Retry-After */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
        };
    };
    get_hold_api_v1_holds__token__get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                token: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HoldOut"];
                };
            };
            /** @description UNAUTHENTICATED: A valid bearer token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description HOLD_NOT_FOUND: Unknown hold, or not yours */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    extend_hold_api_v1_holds__token__extend_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                token: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": {
                    /** Userid */
                    userId?: string | null;
                };
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HoldOut"];
                };
            };
            /** @description MALFORMED_JSON: The body is missing, not JSON, or not a JSON object */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description UNAUTHENTICATED: A valid bearer token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description USER_MISMATCH: userId differs from the authenticated user */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description HOLD_NOT_FOUND: Unknown hold, or not yours */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description HOLD_NOT_ACTIVE: The hold was already confirmed or released; HOLD_EXPIRED: The hold lapsed; nothing was changed (seatIds) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description PAYLOAD_TOO_LARGE: The body exceeds the size limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description UNSUPPORTED_MEDIA_TYPE: The body must be application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description VALIDATION_FAILED: A field is invalid (the message names it); IDEMPOTENCY_KEY_REUSED: The Idempotency-Key came with another request */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description RATE_LIMITED: Too many requests; see Retry-After; IDEMPOTENCY_KEY_LIMIT: Too many live Idempotency-Keys; see Retry-After */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description DATABASE_BUSY: Lock wait, timeout, conflict or pool exhausted; nothing was changed; see Retry-After; DATABASE_UNAVAILABLE: The database is unreachable; nothing was changed; see Retry-After; OUTCOME_UNKNOWN: The change reached the database but its answer was lost: it may have been committed. Retry with the same Idempotency-Key (the first answer is replayed) or read the seat or booking; see Retry-After; REDIS_UNAVAILABLE: Redis is unreachable (REDIS strategy); see Retry-After */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
        };
    };
    release_hold_api_v1_holds__token__release_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                token: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": {
                    /** Userid */
                    userId?: string | null;
                };
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HoldOut"];
                };
            };
            /** @description MALFORMED_JSON: The body is missing, not JSON, or not a JSON object */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description UNAUTHENTICATED: A valid bearer token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description USER_MISMATCH: userId differs from the authenticated user */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description HOLD_NOT_FOUND: Unknown hold, or not yours */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description HOLD_NOT_ACTIVE: The hold was already confirmed or released; HOLD_EXPIRED: The hold lapsed; nothing was changed (seatIds) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description PAYLOAD_TOO_LARGE: The body exceeds the size limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description UNSUPPORTED_MEDIA_TYPE: The body must be application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description VALIDATION_FAILED: A field is invalid (the message names it); IDEMPOTENCY_KEY_REUSED: The Idempotency-Key came with another request */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description RATE_LIMITED: Too many requests; see Retry-After; IDEMPOTENCY_KEY_LIMIT: Too many live Idempotency-Keys; see Retry-After */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description DATABASE_BUSY: Lock wait, timeout, conflict or pool exhausted; nothing was changed; see Retry-After; DATABASE_UNAVAILABLE: The database is unreachable; nothing was changed; see Retry-After; OUTCOME_UNKNOWN: The change reached the database but its answer was lost: it may have been committed. Retry with the same Idempotency-Key (the first answer is replayed) or read the seat or booking; see Retry-After; REDIS_UNAVAILABLE: Redis is unreachable (REDIS strategy); see Retry-After */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
        };
    };
    my_bookings_api_v1_me_bookings_get: {
        parameters: {
            query?: {
                /** @description Page size. */
                limit?: number;
                /** @description `next` of the previous page. */
                before?: number | null;
                status?: ("CONFIRMED" | "CANCELLED") | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MyBookingsOut"];
                };
            };
            /** @description UNAUTHENTICATED: A valid bearer token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description VALIDATION_FAILED: A field is invalid (the message names it) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
        };
    };
    my_holds_api_v1_me_holds_get: {
        parameters: {
            query?: {
                /** @description Page size. */
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MyHoldsOut"];
                };
            };
            /** @description UNAUTHENTICATED: A valid bearer token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description VALIDATION_FAILED: A field is invalid (the message names it) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
        };
    };
    list_seats_api_v1_seats_get: {
        parameters: {
            query?: {
                /** @description `inventory` (layout, sequence, seats); `array`: the seed system's bare array of `{seatId, seatNumber, booked, bookedAt}`. Default: `inventory`, or `array` with `BOXOFFICE_SEED_COMPAT`. */
                shape?: ("inventory" | "array") | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["InventoryOut"] | components["schemas"]["SeedSeatOut"][];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
            /** @description DATABASE_BUSY: Lock wait, timeout, conflict or pool exhausted; nothing was changed; see Retry-After; DATABASE_UNAVAILABLE: The database is unreachable; nothing was changed; see Retry-After */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
        };
    };
    list_events_api_v1_events_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EventListOut"];
                };
            };
        };
    };
    get_event_api_v1_events__event_id__get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                event_id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EventOut"];
                };
            };
            /** @description EVENT_NOT_FOUND: Unknown event */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    event_seats_api_v1_events__event_id__seats_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                event_id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EventInventoryOut"];
                };
            };
            /** @description EVENT_NOT_FOUND: Unknown event */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    create_event_api_v1_admin_events_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** Slug */
                    slug: string;
                    /** Name */
                    name: string;
                    /** Venue */
                    venue: string;
                    /** Startsat */
                    startsAt?: string | null;
                    /** Salesstart */
                    salesStart?: string | null;
                    /** Salesend */
                    salesEnd?: string | null;
                    /**
                     * Noorphans
                     * @default false
                     */
                    noOrphans?: boolean;
                    /**
                     * Orphanrowends
                     * @default false
                     */
                    orphanRowEnds?: boolean;
                    /** Categories */
                    categories?: {
                        [key: string]: {
                            /** Pricecents */
                            priceCents: number;
                        };
                    };
                    /** Channels */
                    channels?: {
                        [key: string]: {
                            /** Key */
                            key: string;
                        };
                    };
                    /** Sections */
                    sections: {
                        /** Name */
                        name: string;
                        /** Rows */
                        rows?: number | null;
                        /** Columns */
                        columns?: number | null;
                        /** Capacity */
                        capacity?: number | null;
                        /** Category */
                        category?: string | null;
                        /** Rowcategories */
                        rowCategories?: {
                            [key: string]: string;
                        };
                        focus?: {
                            /** Row */
                            row: number;
                            /** Column */
                            column: number;
                        } | null;
                        /** Accessible */
                        accessible?: string[];
                        /** Companion */
                        companion?: string[];
                        /** Blocked */
                        blocked?: {
                            [key: string]: string[] | number;
                        };
                        /** Channels */
                        channels?: {
                            [key: string]: string[] | number;
                        };
                    }[];
                };
            };
        };
        responses: {
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EventOut"];
                };
            };
            /** @description MALFORMED_JSON: The body is missing, not JSON, or not a JSON object */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description UNAUTHENTICATED: A valid bearer token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description ADMIN_DISABLED: The admin API is disabled; NOT_ADMIN: The token is valid but carries no admin role */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description EVENT_EXISTS: An event with this slug exists */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description PAYLOAD_TOO_LARGE: The body exceeds the size limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description UNSUPPORTED_MEDIA_TYPE: The body must be application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description VALIDATION_FAILED: A field is invalid (the message names it) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description RATE_LIMITED: Too many requests; see Retry-After */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
        };
    };
    allocate_api_v1_admin_events__event_id__allocations_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                event_id: number;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** Seatids */
                    seatIds?: number[] | null;
                    /** Section */
                    section?: string | null;
                    /** Count */
                    count?: number | null;
                    /** Blocked */
                    blocked?: ("SPONSOR" | "PRODUCTION" | "PRESS" | "HOUSE") | null;
                    /** Channel */
                    channel?: string | null;
                    /** AllocationSource */
                    from?: {
                        /** Blocked */
                        blocked?: ("SPONSOR" | "PRODUCTION" | "PRESS" | "HOUSE") | null;
                        /** Channel */
                        channel?: string | null;
                    };
                } | {
                    seatIds: unknown;
                    section?: null;
                    count?: null;
                } | {
                    section: unknown;
                    count: unknown;
                    seatIds?: null;
                };
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AllocationOut"];
                };
            };
            /** @description MALFORMED_JSON: The body is missing, not JSON, or not a JSON object */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description UNAUTHENTICATED: A valid bearer token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description ADMIN_DISABLED: The admin API is disabled; NOT_ADMIN: The token is valid but carries no admin role */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description EVENT_NOT_FOUND: Unknown event; SEATS_NOT_FOUND: Some of the seats do not exist (seatIds) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description SEATS_TAKEN: Some seats are booked or held; nothing was changed (seatIds); NOT_ENOUGH_FREE_SEATS: An allocation asks for more tickets than the pool has free (requested, available); nothing was changed */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description PAYLOAD_TOO_LARGE: The body exceeds the size limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description UNSUPPORTED_MEDIA_TYPE: The body must be application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description VALIDATION_FAILED: A field is invalid (the message names it) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description RATE_LIMITED: Too many requests; see Retry-After */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
        };
    };
    update_event_api_v1_admin_events__event_id__patch: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                event_id: number;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** Name */
                    name?: string | null;
                    /** Startsat */
                    startsAt?: string | null;
                    /** Salesstart */
                    salesStart?: string | null;
                    /** Salesend */
                    salesEnd?: string | null;
                    /** Noorphans */
                    noOrphans?: boolean | null;
                    /** Orphanrowends */
                    orphanRowEnds?: boolean | null;
                };
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EventOut"];
                };
            };
            /** @description MALFORMED_JSON: The body is missing, not JSON, or not a JSON object */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description UNAUTHENTICATED: A valid bearer token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description ADMIN_DISABLED: The admin API is disabled; NOT_ADMIN: The token is valid but carries no admin role */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description EVENT_NOT_FOUND: Unknown event */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description EVENT_CANCELLED: The event was cancelled; nothing sells (cancelledAt, reason) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description PAYLOAD_TOO_LARGE: The body exceeds the size limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description UNSUPPORTED_MEDIA_TYPE: The body must be application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description VALIDATION_FAILED: A field is invalid (the message names it) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description RATE_LIMITED: Too many requests; see Retry-After */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
        };
    };
    cancel_event_api_v1_admin_events__event_id__cancel_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                event_id: number;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** Reason */
                    reason: string;
                };
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EventCancellationOut"];
                };
            };
            /** @description MALFORMED_JSON: The body is missing, not JSON, or not a JSON object */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description UNAUTHENTICATED: A valid bearer token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description ADMIN_DISABLED: The admin API is disabled; NOT_ADMIN: The token is valid but carries no admin role */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description EVENT_NOT_FOUND: Unknown event */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description EVENT_CANCELLED: The event was cancelled; nothing sells (cancelledAt, reason) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description PAYLOAD_TOO_LARGE: The body exceeds the size limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description UNSUPPORTED_MEDIA_TYPE: The body must be application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description VALIDATION_FAILED: A field is invalid (the message names it) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description RATE_LIMITED: Too many requests; see Retry-After */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
        };
    };
    admin_seats_api_v1_admin_events__event_id__seats_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                event_id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminInventoryOut"];
                };
            };
            /** @description UNAUTHENTICATED: A valid bearer token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description ADMIN_DISABLED: The admin API is disabled; NOT_ADMIN: The token is valid but carries no admin role */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description EVENT_NOT_FOUND: Unknown event */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
            /** @description RATE_LIMITED: Too many requests; see Retry-After */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
        };
    };
    room_api_v1_events__event_id__waiting_room_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                event_id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WaitingRoomOut"];
                };
            };
            /** @description EVENT_NOT_FOUND: Unknown event */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    join_api_v1_events__event_id__waiting_room_join_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                event_id: number;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": {
                    /** Challenge */
                    challenge?: string | null;
                };
            };
        };
        responses: {
            /** @description Already in the room: the same place (or NOT_GATED) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["VisitorOut"];
                };
            };
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["VisitorOut"];
                };
            };
            /** @description MALFORMED_JSON: The body is missing, not JSON, or not a JSON object */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description UNAUTHENTICATED: A valid bearer token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description CHALLENGE_FAILED: The waiting room's challenge (proof of work) is missing or wrong; ADMISSION_REVOKED: The admission was revoked (by an operator, or the visitor left) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description EVENT_NOT_FOUND: Unknown event; VISITOR_NOT_FOUND: You have not joined this waiting room */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description PAYLOAD_TOO_LARGE: The body exceeds the size limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description UNSUPPORTED_MEDIA_TYPE: The body must be application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description VALIDATION_FAILED: A field is invalid (the message names it) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description RATE_LIMITED: Too many requests; see Retry-After */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description WAITING_ROOM_UNAVAILABLE: The waiting room's store cannot answer; nobody is let in; see Retry-After */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
        };
    };
    me_api_v1_events__event_id__waiting_room_me_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                event_id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["VisitorOut"];
                };
            };
            /** @description UNAUTHENTICATED: A valid bearer token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description EVENT_NOT_FOUND: Unknown event; VISITOR_NOT_FOUND: You have not joined this waiting room */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
            /** @description WAITING_ROOM_UNAVAILABLE: The waiting room's store cannot answer; nobody is let in; see Retry-After */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
        };
    };
    leave_api_v1_events__event_id__waiting_room_leave_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                event_id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["VisitorOut"];
                };
            };
            /** @description UNAUTHENTICATED: A valid bearer token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description EVENT_NOT_FOUND: Unknown event; VISITOR_NOT_FOUND: You have not joined this waiting room */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
            /** @description WAITING_ROOM_UNAVAILABLE: The waiting room's store cannot answer; nobody is let in; see Retry-After */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
        };
    };
    admin_room_api_v1_admin_events__event_id__waiting_room_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                event_id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WaitingRoomAdminOut"];
                };
            };
            /** @description UNAUTHENTICATED: A valid bearer token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description ADMIN_DISABLED: The admin API is disabled; NOT_ADMIN: The token is valid but carries no admin role */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description EVENT_NOT_FOUND: Unknown event; NOT_FOUND: No such path */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
            /** @description RATE_LIMITED: Too many requests; see Retry-After */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description DATABASE_BUSY: Lock wait, timeout, conflict or pool exhausted; nothing was changed; see Retry-After; DATABASE_UNAVAILABLE: The database is unreachable; nothing was changed; see Retry-After */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
        };
    };
    configure_api_v1_admin_events__event_id__waiting_room_put: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                event_id: number;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** Enabled */
                    enabled: boolean;
                    /**
                     * Startsat
                     * Format: date-time
                     */
                    startsAt: string;
                    /** Maxactive */
                    maxActive: number;
                    /** Perminute */
                    perMinute: number;
                    /** Minperminute */
                    minPerMinute?: number | null;
                    /**
                     * Adaptive
                     * @default true
                     */
                    adaptive?: boolean;
                    /**
                     * Holds
                     * @description A place is kept this long for a visitor who stops polling.
                     * @default 600
                     */
                    holdS?: number;
                    /**
                     * Admissionttls
                     * @description How long an admission lasts.
                     * @default 600
                     */
                    admissionTtlS?: number;
                };
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WaitingRoomAdminOut"];
                };
            };
            /** @description MALFORMED_JSON: The body is missing, not JSON, or not a JSON object */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description UNAUTHENTICATED: A valid bearer token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description ADMIN_DISABLED: The admin API is disabled; NOT_ADMIN: The token is valid but carries no admin role */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description EVENT_NOT_FOUND: Unknown event */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description PAYLOAD_TOO_LARGE: The body exceeds the size limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description UNSUPPORTED_MEDIA_TYPE: The body must be application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description VALIDATION_FAILED: A field is invalid (the message names it) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description RATE_LIMITED: Too many requests; see Retry-After */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description DATABASE_BUSY: Lock wait, timeout, conflict or pool exhausted; nothing was changed; see Retry-After; DATABASE_UNAVAILABLE: The database is unreachable; nothing was changed; see Retry-After */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
        };
    };
    revoke_api_v1_admin_events__event_id__waiting_room_revoke_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                event_id: number;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": {
                    /** Userid */
                    userId?: string | null;
                };
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RevokedOut"];
                };
            };
            /** @description MALFORMED_JSON: The body is missing, not JSON, or not a JSON object */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description UNAUTHENTICATED: A valid bearer token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description ADMIN_DISABLED: The admin API is disabled; NOT_ADMIN: The token is valid but carries no admin role */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description EVENT_NOT_FOUND: Unknown event */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description PAYLOAD_TOO_LARGE: The body exceeds the size limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description UNSUPPORTED_MEDIA_TYPE: The body must be application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description VALIDATION_FAILED: A field is invalid (the message names it) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description RATE_LIMITED: Too many requests; see Retry-After */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
            /** @description DATABASE_BUSY: Lock wait, timeout, conflict or pool exhausted; nothing was changed; see Retry-After; DATABASE_UNAVAILABLE: The database is unreachable; nothing was changed; see Retry-After */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorOut"];
                };
            };
        };
    };
}
